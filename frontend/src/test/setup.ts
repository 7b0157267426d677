import "@testing-library/jest-dom/vitest";
import { cleanup, configure } from "@testing-library/react";
import { afterAll, afterEach, beforeAll } from "vitest";
import { server } from "./server";

// findBy* and waitFor wait this long for what a user would see: a loaded CPU renders slowly.
configure({ asyncUtilTimeout: 4_000 });

beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => {
  cleanup();
  server.resetHandlers();
  // No session cookie outlives its test.
  document.cookie = "orderhub_csrf=; path=/; max-age=0";
});
afterAll(() => server.close());
