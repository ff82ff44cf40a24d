import { describe, expect, it } from 'vitest'
import { readJoinLink } from './joinLink'

const TOKEN = 'a'.repeat(20) + 'B-_' + '9'.repeat(20)

describe('readJoinLink', () => {
  it('takes the token from the fragment of /join and gives back the app address', () => {
    expect(readJoinLink(`https://img.example.com/join#${TOKEN}`)).toEqual({
      token: TOKEN,
      url: 'https://img.example.com/',
    })
  })

  it('says so when /join has no usable token, so the app explains rather than posting', () => {
    expect(readJoinLink('http://localhost:8081/join')).toEqual({ token: null, url: 'http://localhost:8081/' })
    expect(readJoinLink('http://localhost:8081/join#short')?.token).toBeNull()
    expect(readJoinLink(`http://localhost:8081/join#${TOKEN}x`)?.token).toBeNull()
  })

  it('leaves every other address alone', () => {
    expect(readJoinLink(`http://localhost:8081/#${TOKEN}`)).toBeNull()
    expect(readJoinLink('http://localhost:8081/joined')).toBeNull()
    expect(readJoinLink('not a url')).toBeNull()
  })
})
