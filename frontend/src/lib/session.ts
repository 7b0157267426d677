import type { LoginResponse, User } from "./apiTypes";
import { ApiError } from "./errors";

/**
 * The signed-in session. The access token lives in this object's memory only (never in
 * localStorage or sessionStorage, where any injected script could read it). The refresh token
 * never reaches script at all: auth keeps it in an HttpOnly, Secure, SameSite=Strict cookie
 * scoped to /api/auth, and refresh and sign-out prove they come from this app with the
 * `X-CSRF-Token` header, copied from the readable `orderhub_csrf` cookie. So a reload or a new
 * tab restores the session silently (`restore`), and signing out in one tab ends it in all
 * (the server forgets the cookie's session; a BroadcastChannel tells the other tabs at once).
 *
 * The access token is refreshed quietly shortly before it expires, and on a 401: concurrent
 * requests share one refresh call (single flight), tabs take turns (a Web Lock: the cookie's
 * refresh token works once), and each request is retried once with the new token.
 */
export type SignOutReason = "signed_out" | "expired";

export interface SessionSnapshot {
  user: User | null;
  signOutReason: SignOutReason | null;
  /** True while a reload or new tab is restoring the session from its cookie. */
  restoring?: boolean;
}

export const CSRF_COOKIE = "orderhub_csrf";
export const CSRF_HEADER = "X-CSRF-Token";
const CHANNEL = "orderhub-session";

/** The CSRF cookie's value, if this browser holds a session cookie. */
export function csrfToken(): string | null {
  for (const part of document.cookie.split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === CSRF_COOKIE) return value.join("=") || null;
  }
  return null;
}

export interface SessionOptions {
  /** Origin the API lives on; requests go to `${baseUrl}/api/...`. */
  baseUrl: string;
  /** Refresh this long before the access token expires (capped at half its lifetime). */
  refreshLeadMs?: number;
  now?: () => number;
}

const SIGNED_OUT: SessionSnapshot = { user: null, signOutReason: null };

export class Session {
  private accessToken: string | null = null;
  private expiresAt = 0;
  private lifetimeMs = 0;
  private inFlightRefresh: Promise<boolean> | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private snapshot: SessionSnapshot = SIGNED_OUT;
  private readonly listeners = new Set<() => void>();
  private readonly baseUrl: string;
  private readonly refreshLeadMs: number;
  private readonly now: () => number;
  private readonly channel: BroadcastChannel | null;

  constructor(options: SessionOptions) {
    this.baseUrl = options.baseUrl.replace(/\/$/, "");
    this.refreshLeadMs = options.refreshLeadMs ?? 30_000;
    this.now = options.now ?? Date.now;
    if (csrfToken()) this.snapshot = { ...SIGNED_OUT, restoring: true };
    this.channel = typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel(CHANNEL);
    this.channel?.addEventListener("message", (event: MessageEvent) => {
      if (event.data === "signed_out" && this.snapshot.user) this.clear("signed_out");
    });
  }

  /**
   * Restores the session a reload or new tab finds in its cookie (a silent refresh, then who
   * is signed in); signed out when there is none or it has ended.
   */
  async restore(): Promise<void> {
    if (!csrfToken()) {
      if (this.snapshot.restoring) this.publish(SIGNED_OUT);
      return;
    }
    const renewed = await this.refresh();
    if (!renewed || !this.accessToken) {
      this.publish(SIGNED_OUT);
      return;
    }
    try {
      const response = await authorized(new Request(`${this.baseUrl}/api/auth/me`), this.accessToken);
      if (!response.ok) throw await ApiError.fromResponse(response);
      const body = (await response.json()) as { user: User };
      this.publish({ user: body.user, signOutReason: null });
    } catch {
      this.clear("expired");
    }
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): SessionSnapshot => this.snapshot;

  get user(): User | null {
    return this.snapshot.user;
  }

  async signIn(email: string, password: string): Promise<User> {
    const response = await this.post("/api/auth/login", { email, password });
    if (!response.ok) throw await ApiError.fromResponse(response);
    const body = (await response.json()) as LoginResponse;
    this.setAccessToken(body.accessToken, body.expiresIn);
    this.publish({ user: body.user, signOutReason: null });
    return body.user;
  }

  /** Ends the session on the server (best effort) and always locally. */
  async signOut(): Promise<void> {
    const { accessToken } = this;
    this.clear("signed_out");
    this.channel?.postMessage("signed_out");
    if (!accessToken) return;
    await this.post("/api/auth/logout", {}, { Authorization: `Bearer ${accessToken}`, ...csrfHeader() }).catch(
      () => undefined,
    );
  }

  /**
   * A fresh access token, refreshing first if the current one has (nearly) expired; null when
   * signed out. Used by callers that cannot go through `fetch` below (the event stream).
   */
  async validAccessToken(): Promise<string | null> {
    if (this.accessToken && this.now() >= this.expiresAt) await this.refresh(this.accessToken);
    return this.accessToken;
  }

  /**
   * Renews the token pair. `staleToken` is the access token a caller saw rejected: if another
   * caller already replaced it, no second refresh is made.
   */
  refresh(staleToken?: string | null): Promise<boolean> {
    if (staleToken && this.accessToken && staleToken !== this.accessToken) {
      return Promise.resolve(true);
    }
    this.inFlightRefresh ??= this.renewTokens().finally(() => {
      this.inFlightRefresh = null;
    });
    return this.inFlightRefresh;
  }

  /** A `fetch` that authorizes requests and retries once after a 401 with a refreshed token. */
  fetch = async (request: Request): Promise<Response> => {
    const retry = request.clone();
    const token = await this.validAccessToken();
    const response = await authorized(request, token);
    if (response.status !== 401 || !this.snapshot.user) return response;
    const renewed = await this.refresh(token);
    if (!renewed) return response;
    return authorized(retry, this.accessToken);
  };

  private renewTokens(): Promise<boolean> {
    // One tab at a time: the cookie's refresh token works once, and the next tab must send the
    // token this one's refresh rotated it to.
    const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
    if (!locks) return this.renewTokensNow();
    // The lock is held until the callback's promise settles, and request() resolves to its value.
    return locks.request("orderhub-refresh", () => this.renewTokensNow()) as unknown as Promise<boolean>;
  }

  private async renewTokensNow(): Promise<boolean> {
    if (!csrfToken()) {
      if (this.snapshot.user) this.clear("expired");
      return false;
    }
    let response: Response;
    try {
      response = await this.post("/api/auth/refresh", {}, csrfHeader());
    } catch {
      // The network is down, not the session: keep it and let the next request try again.
      return false;
    }
    if (!response.ok) {
      // A used or revoked refresh token cannot become valid again: the session is over.
      this.clear("expired");
      return false;
    }
    const body = (await response.json()) as { accessToken: string; expiresIn?: number };
    this.setAccessToken(body.accessToken, body.expiresIn);
    return true;
  }

  private setAccessToken(token: string, expiresInSeconds?: number): void {
    const fromToken = jwtExpiry(token);
    const lifetimeMs =
      expiresInSeconds !== undefined
        ? expiresInSeconds * 1000
        : fromToken !== null
          ? fromToken - this.now()
          : this.lifetimeMs;
    this.accessToken = token;
    this.lifetimeMs = lifetimeMs;
    this.expiresAt = this.now() + lifetimeMs;
    this.scheduleRefresh();
  }

  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    if (this.lifetimeMs <= 0) return;
    const lead = Math.min(this.refreshLeadMs, this.lifetimeMs / 2);
    const delay = Math.max(this.expiresAt - lead - this.now(), 1_000);
    this.refreshTimer = setTimeout(() => void this.refresh(), delay);
  }

  private clear(reason: SignOutReason): void {
    clearTimeout(this.refreshTimer);
    this.accessToken = null;
    this.expiresAt = 0;
    this.publish({ user: null, signOutReason: reason });
  }

  private publish(snapshot: SessionSnapshot): void {
    this.snapshot = snapshot;
    for (const listener of this.listeners) listener();
  }

  private post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
  }
}

function csrfHeader(): Record<string, string> {
  const token = csrfToken();
  return token ? { [CSRF_HEADER]: token } : {};
}

function authorized(request: Request, token: string | null): Promise<Response> {
  if (!token) return fetch(request);
  const headers = new Headers(request.headers);
  headers.set("Authorization", `Bearer ${token}`);
  return fetch(new Request(request, { headers }));
}

/** The `exp` claim of a JWT in epoch milliseconds, or null when it cannot be read. */
export function jwtExpiry(token: string): number | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp * 1000 : null;
  } catch {
    return null;
  }
}
