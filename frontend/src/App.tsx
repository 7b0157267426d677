import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useEffect, useMemo } from "react";
import { createBrowserRouter, RouterProvider } from "react-router";
import { createApi } from "./lib/api";
import { isApiError } from "./lib/errors";
import { ServicesProvider, type Services } from "./lib/services";
import { Session } from "./lib/session";
import { appRoutes } from "./routes/router";

export function createServices(baseUrl: string): Services {
  const session = new Session({ baseUrl });
  return { session, api: createApi(session, baseUrl) };
}

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        // A 4xx will not change by asking again; a network blip or 5xx might.
        retry: (failures, error) => failures < 2 && !(isApiError(error) && error.status < 500),
      },
    },
  });
}

export function App() {
  const baseUrl = window.location.origin;
  const services = useMemo(() => createServices(baseUrl), [baseUrl]);
  const queryClient = useMemo(createQueryClient, []);
  const router = useMemo(() => createBrowserRouter(appRoutes(baseUrl)), [baseUrl]);

  // Nothing a previous user saw may outlive their session.
  useEffect(
    () => services.session.subscribe(() => services.session.user === null && queryClient.clear()),
    [services, queryClient],
  );

  // A reload or a new tab picks the session up from its cookie.
  useEffect(() => void services.session.restore(), [services]);

  return (
    <ServicesProvider services={services}>
      <QueryClientProvider client={queryClient}>
        <RouterProvider router={router} />
      </QueryClientProvider>
    </ServicesProvider>
  );
}
