import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";
import { useSessionState } from "../../lib/services";

/** Sends signed-out visitors to the sign-in page, remembering where they were going. */
export function RequireSession({ children }: { children: ReactNode }) {
  const { user, restoring } = useSessionState();
  const location = useLocation();
  if (restoring) return <p className="restoring" role="status">Restoring your session…</p>;
  if (!user) {
    return <Navigate to="/login" replace state={{ from: `${location.pathname}${location.search}` }} />;
  }
  return children;
}
