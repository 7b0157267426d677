import { Navigate, type RouteObject } from "react-router";
import { LoginPage } from "../features/auth/LoginPage";
import { AuditPage } from "../features/audit/AuditPage";
import { RequireSession } from "../features/auth/RequireSession";
import { ChannelsPage } from "../features/channels/ChannelsPage";
import { DeadLettersPage } from "../features/deadletters/DeadLettersPage";
import { LiveUpdatesProvider } from "../features/events/LiveUpdates";
import { OrderDrawer } from "../features/orders/OrderDrawer";
import { OrdersPage } from "../features/orders/OrdersPage";
import { UsersPage } from "../features/users/UsersPage";
import { AppLayout } from "./AppLayout";

export function appRoutes(baseUrl: string): RouteObject[] {
  return [
    { path: "/login", element: <LoginPage /> },
    {
      element: (
        <RequireSession>
          <LiveUpdatesProvider baseUrl={baseUrl}>
            <AppLayout />
          </LiveUpdatesProvider>
        </RequireSession>
      ),
      children: [
        { index: true, element: <Navigate to="/orders" replace /> },
        { path: "orders", element: <OrdersPage />, children: [{ path: ":id", element: <OrderDrawer /> }] },
        { path: "channels", element: <ChannelsPage /> },
        { path: "users", element: <UsersPage /> },
        { path: "dead-letters", element: <DeadLettersPage /> },
        { path: "audit", element: <AuditPage /> },
        { path: "*", element: <Navigate to="/orders" replace /> },
      ],
    },
  ];
}
