/**
 * Builds the viewer into dist/, which the gateway serves at `/` (index.html for every client
 * route). `pnpm dev` proxies the API to a gateway on 127.0.0.1:8080 (MAESTRO_GATEWAY_URL to change).
 */
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [vue()],
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 600 },
  server: { proxy: { '/v1': process.env['MAESTRO_GATEWAY_URL'] ?? 'http://127.0.0.1:8080' } },
});
