import type { ReactNode } from "react";
import { describeError } from "../../lib/errors";

export function ErrorState({ error, onRetry, title = "Could not load this" }: { error: unknown; onRetry?: () => void; title?: string }) {
  return (
    <div className="state state-error" role="alert">
      <p className="state-title">{title}</p>
      <p className="state-detail">{describeError(error)}</p>
      {onRetry && (
        <button type="button" className="button" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty" role="status">
      <p className="state-title">{title}</p>
      {children && <div className="state-detail">{children}</div>}
    </div>
  );
}

export function Skeleton({ width }: { width?: "short" | "medium" | "long" }) {
  return <span className={`skeleton skeleton-${width ?? "medium"}`} aria-hidden="true" />;
}
