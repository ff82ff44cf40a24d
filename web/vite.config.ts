/// <reference types="vitest/config" />
import { createHash } from 'node:crypto'
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { build, defineConfig, type Plugin, type ProxyOptions } from 'vite'
import vue from '@vitejs/plugin-vue'
import { renderGuideFile } from './scripts/deploymentGuide.ts'

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

// The service worker (src/sw/sw.ts) is built on its own once the app is written: one classic
// script at /sw.js (module service workers are not in every browser we serve), with the shell
// it caches compiled in: index.html, the hashed assets and the public files (icons, manifest).
// Its version is a hash of those files' contents, so any change to the app makes a new worker,
// which the browser installs beside the old one and the page offers as "a new version".
function serviceWorker(): Plugin {
  let outDir = 'dist'
  let publicDir = ''
  let root = ''
  let bundled: string[] = []
  const filesUnder = (dir: string): string[] =>
    dir ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))) : []
  return {
    name: 'imagetools-service-worker',
    apply: 'build',
    configResolved(config) {
      root = config.root
      outDir = join(config.root, config.build.outDir)
      publicDir = config.publicDir
    },
    generateBundle(_options, bundle) {
      bundled = Object.keys(bundle).filter((name) => !name.endsWith('.map'))
    },
    async closeBundle() {
      const shell = [...new Set(['index.html', ...bundled, ...filesUnder(publicDir)])].sort()
      const version = createHash('sha256')
      for (const file of shell) version.update(file).update(readFileSync(join(outDir, file)))
      await build({
        configFile: false,
        root,
        publicDir: false,
        logLevel: 'warn',
        define: {
          __SHELL__: JSON.stringify(shell.map((file) => `/${file}`)),
          __SHELL_VERSION__: JSON.stringify(version.digest('hex').slice(0, 16)),
        },
        build: {
          outDir,
          emptyOutDir: false,
          lib: { entry: 'src/sw/sw.ts', formats: ['iife'], name: 'imagetoolsServiceWorker', fileName: () => 'sw.js' },
        },
      })
    },
  }
}

// The deployment guide as /docs/deployment.html (see scripts/deploymentGuide.ts). The Docker
// build copies docs/DEPLOYMENT.md beside web/ for this.
function deploymentGuide(): Plugin {
  let root = '.'
  return {
    name: 'imagetools-deployment-guide',
    apply: 'build',
    configResolved(config) {
      root = config.root
    },
    writeBundle(options) {
      const target = join(options.dir ?? 'dist', 'docs')
      mkdirSync(target, { recursive: true })
      writeFileSync(join(target, 'deployment.html'), renderGuideFile(join(root, '..', 'docs', 'DEPLOYMENT.md')))
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
  plugins: [vue(), swaggerUi(), serviceWorker(), deploymentGuide()],
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
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    restoreMocks: true,
    unstubGlobals: true,
  },
})
