import { QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import { http, HttpResponse } from "msw";
import { createMemoryRouter, RouterProvider } from "react-router";
import { createQueryClient, createServices } from "../App";
import type { User } from "../lib/apiTypes";
import { ServicesProvider } from "../lib/services";
import { appRoutes } from "../routes/router";
import { fakeJwt, setSessionCookie } from "./fixtures";
import { api, ORIGIN, server } from "./server";

/** Services with a session already signed in as `user` (through the real sign-in call). */
export async function signedInServices(user: User | null) {
  const services = createServices(ORIGIN);
  if (user) {
    server.use(
      http.post(api("/api/auth/login"), () => {
        setSessionCookie();
        return HttpResponse.json({
          accessToken: fakeJwt(Date.now() + 15 * 60_000),
          refreshToken: "refresh-1",
          tokenType: "Bearer",
          expiresIn: 900,
          user,
        });
      }),
    );
    await services.session.signIn(user.email, "secret");
  }
  return services;
}

/** The whole app at `url`, as `user` (or signed out), with the real routes and providers. */
export async function renderApp(url: string, user: User | null) {
  const services = await signedInServices(user);
  const queryClient = createQueryClient();
  queryClient.setDefaultOptions({ queries: { ...queryClient.getDefaultOptions().queries, retry: false } });
  const router = createMemoryRouter(appRoutes(ORIGIN), { initialEntries: [url] });
  const view = render(
    <ServicesProvider services={services}>
      <QueryClientProvider client={queryClient}>
        <RouterProvider router={router} />
      </QueryClientProvider>
    </ServicesProvider>,
  );
  const location = () => router.state.location;
  const search = () => new URLSearchParams(router.state.location.search);
  return { ...view, router, services, queryClient, location, search };
}
