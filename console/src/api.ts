// The console's one door to atende: the public API, with the session's bearer token.

export type Id = string;

export interface User {
  id: Id;
  email: string;
  name: string;
  display_name?: string | null;
  profile: "admin" | "agent" | "restricted_agent";
  available: boolean;
  deleted_at?: string | null;
}
export interface Membership { team_id: Id; user_id: Id; member: boolean; supervisor: boolean }
export interface Account { id: Id; name: string; default_team_id: Id; send_delay_seconds: number }
export interface Me { user: User; account: Account; teams: Membership[] }
export interface Team { id: Id; name: string; visibility?: string; distribution?: unknown }
export interface Classification { category: string; reason_id?: string | null; amount_cents?: number | null }
export interface Session {
  id: Id;
  protocol: string;
  channel_id: Id;
  contact_id: Id;
  team_id: Id;
  owner_id?: Id | null;
  designated_to?: Id | null;
  status: "pending" | "in_progress" | "completed";
  last_activity_at: string;
  last_inbound_at?: string | null;
  /** What may be sent now, by the channel kind's rule (GET /v1/sessions/{id}). */
  window?: "open" | "human_agent" | "templates_only" | "closed";
  unread: number;
  tags: string[];
  classification?: Classification | null;
  created_at: string;
  completed_at?: string | null;
}
export interface Media { blob_key?: string | null; mime_type?: string | null; filename?: string | null; fetch_error?: string | null }
export interface Message {
  id: Id;
  session_id: Id;
  direction: "in" | "out";
  kind: string;
  author: string;
  author_id?: Id | null;
  text?: string | null;
  content?: Record<string, unknown> | null;
  status: string;
  error?: { code?: number | null; reason: string } | null;
  media?: Media | null;
  reply_to?: Id | null;
  reactions: { emoji: string; from?: string }[];
  created_at: string;
  cancellable_until?: string | null;
  transcription?: { status: string; text?: string | null } | null;
}
export interface Contact {
  id: Id;
  name?: string | null;
  phone?: string | null;
  email?: string | null;
  tags: string[];
  custom: Record<string, unknown>;
  wallet_id?: Id | null;
  status: string;
}
export interface Page<T> { items: T[]; next_cursor?: string | null }
export interface Counts { pending: number; mine: number; mine_unread: number }

/** An answer of the API that was not a success: its status and `{error, message}`. */
export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string) {
    super(message);
  }
}

const TOKEN_KEY = "atende.token";

export function token(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value) localStorage.setItem(TOKEN_KEY, value);
  else localStorage.removeItem(TOKEN_KEY);
}

/** Listeners told when the API refuses the token (expired, revoked): back to the login. */
const signedOut = new Set<() => void>();
export function onSignedOut(listener: () => void): () => void {
  signedOut.add(listener);
  return () => signedOut.delete(listener);
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const bearer = token();
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    if (response.status === 401 && bearer) {
      setToken(null);
      signedOut.forEach((listener) => listener());
    }
    throw new ApiError(response.status, json?.error ?? "error", json?.message ?? response.statusText);
  }
  return json as T;
}

export const get = <T>(path: string) => call<T>("GET", path);
export const post = <T>(path: string, body?: unknown) => call<T>("POST", path, body ?? {});
export const put = <T>(path: string, body?: unknown) => call<T>("PUT", path, body ?? {});
export const patch = <T>(path: string, body: unknown) => call<T>("PATCH", path, body);
export const del = <T>(path: string) => call<T>("DELETE", path);

/** `?a=1&b=2` of the defined values. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** Every page of a list (admin lists are short; the inbox pages itself). */
export async function all<T>(path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null | undefined;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await get<Page<T>>(cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

/** Contacts by id, read once per console session (names and phones in lists). */
const contacts = new Map<Id, Promise<Contact>>();
export function contact(id: Id): Promise<Contact> {
  let found = contacts.get(id);
  if (!found) {
    found = get<Contact>(`/v1/contacts/${id}`);
    found.catch(() => contacts.delete(id));
    contacts.set(id, found);
  }
  return found;
}
export function forgetContact(id: Id): void {
  contacts.delete(id);
}
