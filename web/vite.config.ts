/// <reference types="vitest/config" />
import { defineConfig, type ProxyOptions } from 'vite'
import vue from '@vitejs/plugin-vue'

// In development Vite serves the app and forwards the gateway's paths to it, so the browser
// still sees a single origin. SERVER_PORT is the gateway's own setting (default 8081).
const gateway = `http://localhost:${process.env.SERVER_PORT ?? '8081'}`

const toGateway: ProxyOptions = {
  target: gateway,
  changeOrigin: true,
  // The gateway's CSRF check compares Origin with its own app URL. Behind this dev proxy the
  // browser's Origin (and Host) are Vite's, so present the gateway's instead; in production the
  // app and the API really are one origin.
  configure: (proxy) => {
    proxy.on('proxyReq', (proxyReq) => {
      if (proxyReq.getHeader('origin')) proxyReq.setHeader('origin', gateway)
    })
  },
}

export default defineConfig({
  plugins: [vue()],
  server: {
    proxy: {
      '/api': toGateway,
      '/health': toGateway,
      '/oauth': toGateway,
    },
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    // Every browser we target supports <link rel="modulepreload">, so the polyfill would only
    // add weight (and index.html must stay free of inline script for the server's CSP).
    modulePreload: { polyfill: false },
  },
  test: {
    include: ['src/**/*.test.ts'],
    restoreMocks: true,
    unstubGlobals: true,
  },
})
