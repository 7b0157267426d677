import { useEffect, useRef, useState, type FormEvent } from "react";
import { Navigate, useLocation, useNavigate } from "react-router";
import { describeError, isApiError } from "../../lib/errors";
import { useSession, useSessionState } from "../../lib/services";
import { useDocumentTitle } from "../../lib/useDocumentTitle";

interface FromState {
  from?: string;
}

export function LoginPage() {
  const session = useSession();
  const { user, signOutReason, restoring } = useSessionState();
  const navigate = useNavigate();
  const location = useLocation();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const target = (location.state as FromState | null)?.from ?? "/orders";
  const passwordRef = useRef<HTMLInputElement>(null);
  useDocumentTitle("Sign in");

  // After a refused sign-in, focus goes back to the password (the alert is announced), not the body.
  useEffect(() => {
    if (error) {
      passwordRef.current?.focus();
      passwordRef.current?.select();
    }
  }, [error, submitting]);

  if (user) return <Navigate to={target} replace />;
  if (restoring) return <p className="restoring" role="status">Restoring your session…</p>;

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    setSubmitting(true);
    setError(null);
    try {
      await session.signIn(email.trim(), password);
      navigate(target, { replace: true });
    } catch (failure) {
      setError(signInMessage(failure));
      setSubmitting(false);
    }
  };

  return (
    <main className="login-page">
      <form className="login-card" onSubmit={onSubmit} aria-labelledby="login-title">
        <div className="brand brand-large" aria-hidden="true">
          <span className="brand-mark">OH</span> Order Hub
        </div>
        <h1 id="login-title">Sign in</h1>
        {signOutReason === "expired" && !error && (
          <p className="notice" role="status">
            Your session ended. Please sign in again.
          </p>
        )}
        {error && (
          <p className="form-error" role="alert" id="login-error">
            {error}
          </p>
        )}
        <label className="field">
          <span className="field-label">Email</span>
          <input
            type="email"
            name="email"
            autoComplete="username"
            required
            autoFocus
            value={email}
            onChange={(event) => setEmail(event.target.value)}
          />
        </label>
        <label className="field">
          <span className="field-label">Password</span>
          <input
            type="password"
            name="password"
            autoComplete="current-password"
            required
            ref={passwordRef}
            aria-describedby={error ? "login-error" : undefined}
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </label>
        <button type="submit" className="button button-primary button-block" disabled={submitting}>
          {submitting ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}

function signInMessage(error: unknown): string {
  if (isApiError(error, 401)) return "That email and password do not match an account.";
  if (isApiError(error, 429)) return "Too many attempts. Wait a minute, then try again.";
  return describeError(error);
}
