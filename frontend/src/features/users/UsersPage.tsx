import { useId, useRef, useState, type FormEvent } from "react";
import { Navigate } from "react-router";
import { EmptyState, ErrorState, Skeleton } from "../../components/ui/States";
import type { Role, UserAccount } from "../../lib/apiTypes";
import { describeError } from "../../lib/errors";
import { useSessionState } from "../../lib/services";
import { useDocumentTitle } from "../../lib/useDocumentTitle";
import { useAddUser, useUpdateUser, useUsers } from "./queries";

const ROLES: { value: Role; label: string; meaning: string }[] = [
  { value: "viewer", label: "Viewer", meaning: "sees orders and channels" },
  { value: "admin", label: "Admin", meaning: "also moves orders and manages users" },
];

/** Admins add colleagues, change their role and deactivate them. */
export function UsersPage() {
  const { user } = useSessionState();
  useDocumentTitle("Users");
  if (user?.role !== "admin") return <Navigate to="/orders" replace />;
  return (
    <div className="page">
      <header className="page-header">
        <h1>Users</h1>
      </header>
      <AddUserForm />
      <UserList currentUserId={user.id} />
    </div>
  );
}

function AddUserForm() {
  const add = useAddUser();
  const emailId = useId();
  const passwordId = useId();
  const roleId = useId();
  const nameId = useId();
  const [email, setEmail] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [added, setAdded] = useState<string | null>(null);
  const emailRef = useRef<HTMLInputElement>(null);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setAdded(null);
    add.mutate(
      { email: email.trim(), password, role, ...(displayName.trim() ? { displayName: displayName.trim() } : {}) },
      {
        onSuccess: (user) => {
          setAdded(`${user.email} can now sign in as ${user.role}. Give them the password you chose.`);
          setEmail("");
          setDisplayName("");
          setPassword("");
          setRole("viewer");
          emailRef.current?.focus();
        },
      },
    );
  };

  return (
    <section className="card" aria-labelledby="add-user-title">
      <h2 id="add-user-title">Add a colleague</h2>
      <form className="add-user-form" onSubmit={onSubmit}>
        <div className="field">
          <label className="field-label" htmlFor={emailId}>
            Email
          </label>
          <input
            id={emailId}
            ref={emailRef}
            type="email"
            required
            autoComplete="off"
            value={email}
            onChange={(event) => setEmail(event.target.value)}
          />
        </div>
        <div className="field">
          <label className="field-label" htmlFor={nameId}>
            Display name
          </label>
          <input
            id={nameId}
            maxLength={80}
            autoComplete="off"
            placeholder="How they are named in history, notes and the audit log"
            value={displayName}
            onChange={(event) => setDisplayName(event.target.value)}
          />
        </div>
        <div className="field">
          <label className="field-label" htmlFor={passwordId}>
            First password
          </label>
          <input
            id={passwordId}
            type="password"
            required
            minLength={12}
            aria-describedby={`${passwordId}-hint`}
            autoComplete="new-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
          <span className="muted small" id={`${passwordId}-hint`}>
            At least 12 characters; share it with them privately.
          </span>
        </div>
        <div className="field">
          <label className="field-label" htmlFor={roleId}>
            Role
          </label>
          <select id={roleId} value={role} onChange={(event) => setRole(event.target.value as Role)}>
            {ROLES.map(({ value, label, meaning }) => (
              <option key={value} value={value}>
                {label}: {meaning}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="button button-primary" disabled={add.isPending}>
          {add.isPending ? "Adding…" : "Add user"}
        </button>
      </form>
      <div aria-live="polite">
        {add.isError && (
          <p className="form-error" role="alert">
            {describeError(add.error)}
          </p>
        )}
        {added && !add.isError && (
          <p className="notice" role="status">
            {added}
          </p>
        )}
      </div>
    </section>
  );
}

function UserList({ currentUserId }: { currentUserId: string }) {
  const users = useUsers();
  const update = useUpdateUser();
  if (users.isError) return <ErrorState title="Could not load the users" error={users.error} onRetry={() => void users.refetch()} />;
  if (!users.data) {
    return (
      <div className="card" aria-busy="true">
        <Skeleton width="long" />
        <Skeleton width="medium" />
      </div>
    );
  }
  if (users.data.length === 0) return <EmptyState title="No users yet" />;
  const sorted = [...users.data].sort((a, b) => Number(b.active) - Number(a.active) || a.email.localeCompare(b.email));
  return (
    <section className="card" aria-labelledby="user-list-title">
      <h2 id="user-list-title">Everyone who can sign in</h2>
      {update.isError && (
        <p className="form-error" role="alert">
          {describeError(update.error)}
        </p>
      )}
      <table className="users-table">
        <thead>
          <tr>
            <th scope="col">Email</th>
            <th scope="col">Display name</th>
            <th scope="col">Role</th>
            <th scope="col">Access</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((account) => (
            <UserRow
              key={account.id}
              account={account}
              self={account.id === currentUserId}
              busy={update.isPending}
              onChange={(change) => update.mutate({ id: account.id, ...change })}
            />
          ))}
        </tbody>
      </table>
    </section>
  );
}

function UserRow({
  account,
  self,
  busy,
  onChange,
}: {
  account: UserAccount;
  self: boolean;
  busy: boolean;
  onChange: (change: { role?: Role; active?: boolean; displayName?: string }) => void;
}) {
  const roleId = useId();
  const nameId = useId();
  const [name, setName] = useState(account.displayName);
  const rename = () => {
    const wanted = name.trim();
    if (wanted && wanted !== account.displayName) onChange({ displayName: wanted });
    else setName(account.displayName);
  };
  return (
    <tr className={account.active ? undefined : "is-inactive"}>
      <th scope="row">
        {account.email}
        {self && <span className="muted small"> (you)</span>}
      </th>
      <td data-label="Display name">
        <label className="visually-hidden" htmlFor={nameId}>
          Display name of {account.email}
        </label>
        <input
          id={nameId}
          className="inline-input"
          maxLength={80}
          value={name}
          disabled={busy}
          onChange={(event) => setName(event.target.value)}
          onBlur={rename}
          onKeyDown={(event) => {
            if (event.key === "Enter") rename();
          }}
        />
      </td>
      <td data-label="Role">
        <label className="visually-hidden" htmlFor={roleId}>
          Role of {account.email}
        </label>
        <select
          id={roleId}
          value={account.role}
          disabled={self || busy}
          title={self ? "You cannot change your own role" : undefined}
          onChange={(event) => onChange({ role: event.target.value as Role })}
        >
          {ROLES.map(({ value, label }) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </td>
      <td data-label="Access">
        {account.active ? (
          <>
            <span className="muted small">Active </span>
            {!self && (
              <button
                type="button"
                className="button button-quiet"
                disabled={busy}
                aria-label={`Deactivate ${account.email}`}
                onClick={() => onChange({ active: false })}
              >
                Deactivate
              </button>
            )}
          </>
        ) : (
          <>
            <span className="muted small">Deactivated </span>
            <button
              type="button"
              className="button button-quiet"
              disabled={busy}
              aria-label={`Reactivate ${account.email}`}
              onClick={() => onChange({ active: true })}
            >
              Reactivate
            </button>
          </>
        )}
      </td>
    </tr>
  );
}
