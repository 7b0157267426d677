/// <reference types="vitest/config" />
import { cpSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { createRequire } from "node:module";
import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";

/**
 * The gateway's API docs page (`/docs`) loads Swagger UI from `/swagger/`, served from this build,
 * so the docs work without reaching any CDN.
 */
function swaggerUiAssets(): Plugin {
  const swaggerDist = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  return {
    name: "orderhub-swagger-ui-assets",
    apply: "build",
    closeBundle() {
      for (const file of ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"]) {
        cpSync(resolve(swaggerDist, file), resolve(__dirname, "dist/swagger", file));
      }
    },
  };
}

const gateway = process.env.GATEWAY_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react(), swaggerUiAssets()],
  server: {
    port: 5173,
    proxy: {
      "/api": { target: gateway, changeOrigin: false },
    },
  },
  build: {
    outDir: "dist",
    sourcemap: true,
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
    // The machine running the suite is shared: give a busy CPU room before calling a test stuck.
    testTimeout: 20_000,
  },
});
