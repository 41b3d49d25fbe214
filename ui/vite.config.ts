import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';

// The UI is served by the bitacora binary on the same origin as the API; `npm run dev` proxies
// the API to a server on :3100 (override with BITACORA_URL).
const target = process.env.BITACORA_URL ?? 'http://127.0.0.1:3100';

export default defineConfig({
  plugins: [solid()],
  build: { target: 'es2022', chunkSizeWarningLimit: 800, reportCompressedSize: false },
  server: { proxy: { '/loki': { target, ws: true } } },
});
