/// <reference types="vitest/config" />
import { copyFileSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { defineConfig, type Plugin, type ProxyOptions } from 'vite'
import vue from '@vitejs/plugin-vue'

// The gateway's /api/v1/docs page loads Swagger UI from /api-docs/: ship it with the app so the
// docs work offline (no CDN), and only the two files the page uses.
function swaggerUi(): Plugin {
  const require = createRequire(import.meta.url)
  const source = dirname(require.resolve('swagger-ui-dist/package.json'))
  return {
    name: 'imagetools-swagger-ui',
    apply: 'build',
    writeBundle(options) {
      const target = join(options.dir ?? 'dist', 'api-docs')
      mkdirSync(target, { recursive: true })
      for (const file of ['swagger-ui-bundle.js', 'swagger-ui.css']) {
        copyFileSync(join(source, file), join(target, file))
      }
    },
  }
}

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
  plugins: [vue(), swaggerUi()],
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
