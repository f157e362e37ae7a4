import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The dashboard is served by the Parley server from dist/ (same origin as the API, so the
// session cookie and CSRF rules just work). `npm run dev -w @parley/dashboard` proxies the API.
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: {
    proxy: {
      '/v1': { target: process.env.PARLEY_SERVER ?? 'http://127.0.0.1:4000', changeOrigin: false },
    },
  },
});
