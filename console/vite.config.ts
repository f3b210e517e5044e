import { defineConfig } from "vite";

// Preact's JSX through esbuild's automatic runtime: no framework plugin needed.
export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: process.env.ATENDE_CONSOLE_OUT ?? "dist",
    emptyOutDir: true,
    target: "es2022",
    assetsInlineLimit: 0,
  },
  server: { proxy: { "/v1": "http://127.0.0.1:3000" } },
});
