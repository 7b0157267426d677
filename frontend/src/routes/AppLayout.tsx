import { useQueryClient } from "@tanstack/react-query";
import type { MouseEvent } from "react";
import { NavLink, Outlet, useLocation, useNavigate } from "react-router";
import { OutageBanner, useFailingChannelCount } from "../features/channels/OutageBanner";
import { focusFirstOrder } from "../features/orders/keyboard";
import { PipelineStatus } from "../features/pipeline/PipelineStatus";
import { useSession, useSessionState } from "../lib/services";

export function AppLayout() {
  const session = useSession();
  const { user } = useSessionState();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const location = useLocation();
  const failing = useFailingChannelCount();
  const onOrders = location.pathname === "/orders";

  const signOut = async () => {
    await session.signOut();
    queryClient.clear();
    navigate("/login", { replace: true });
  };

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      {onOrders && (
        <a
          className="skip-link"
          href="#orders-list"
          onClick={(event: MouseEvent) => {
            if (focusFirstOrder()) event.preventDefault();
          }}
        >
          Skip to the first order
        </a>
      )}
      <header className="app-header">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            OH
          </span>
          Order Hub
        </div>
        <nav aria-label="Main" className="main-nav">
          <NavLink to="/orders">Orders</NavLink>
          <NavLink to="/channels">
            Channels
            {failing > 0 && (
              <span className="nav-badge" aria-label={`, ${failing} failing`}>
                {failing} failing
              </span>
            )}
          </NavLink>
          {user?.role === "admin" && <NavLink to="/users">Users</NavLink>}
          {user?.role === "admin" && <NavLink to="/dead-letters">Dead letters</NavLink>}
          {user?.role === "admin" && <NavLink to="/audit">Audit log</NavLink>}
        </nav>
        <div className="header-end">
          <PipelineStatus />
          {user && (
            <span className="user-chip" aria-label={`Signed in as ${user.email}, ${user.role}`}>
              <span className="user-email">{user.email}</span>
              <span className={`role-badge role-${user.role}`}>{user.role}</span>
            </span>
          )}
          <button type="button" className="button button-quiet" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <OutageBanner />
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
