import { useState } from "preact/hooks";
import { all, del, get, patch, post, put, type Team, type User } from "../api";
import { useLoad } from "../hooks";
import { t, when, type Key } from "../i18n";
import { Field } from "./ui";
import { Listing } from "./listing";

const PAGES: [string, Key][] = [
  ["users", "admin.users"], ["teams", "admin.teams"], ["channels", "admin.channels"], ["templates", "admin.templates"],
  ["tags", "admin.tags"], ["fields", "admin.fields"], ["quick", "admin.quick"], ["reasons", "admin.reasons"],
  ["imports", "admin.imports"], ["campaigns", "admin.campaigns"], ["flows", "admin.flows"],
  ["payments", "admin.payments"], ["webhooks", "admin.webhooks"], ["reports", "admin.reports"],
];

export function Admin({ page }: { page: string }) {
  return (
    <div class="admin">
      <nav class="side">{PAGES.map(([name, label]) => <a href={`#/admin/${name}`} class={page === name ? "active" : ""}>{t(label)}</a>)}</nav>
      <section class="admin-body">
        {page === "users" && <Users />}
        {page === "teams" && <Teams />}
        {page === "channels" && <Channels />}
        {page === "templates" && <Listing path="/v1/templates" columns={["name", "language", "category", "status"]} />}
        {page === "tags" && <Tags />}
        {page === "fields" && <Listing path="/v1/custom-fields" columns={["key", "label", "type"]} />}
        {page === "quick" && <QuickReplies />}
        {page === "reasons" && <Listing path="/v1/classification-reasons" columns={["name", "category", "requires_amount"]} />}
        {page === "imports" && <Listing path="/v1/contact-imports" columns={["id", "status", "created_at"]} />}
        {page === "campaigns" && <Listing path="/v1/campaigns" columns={["name", "status", "created_at"]} />}
        {page === "flows" && <Listing path="/v1/flows" columns={["name", "status", "version"]} />}
        {page === "payments" && <Listing path="/v1/payments" columns={["description", "amount_cents", "method", "status", "created_at"]} />}
        {page === "webhooks" && <Listing path="/v1/webhook-endpoints" columns={["url", "enabled", "events", "created_at"]} />}
        {page === "reports" && <Reports />}
      </section>
    </div>
  );
}

function Users() {
  const [users, reload] = useLoad(() => all<User>("/v1/users"), []);
  const [form, setForm] = useState({ name: "", email: "", password: "", profile: "agent" });
  const [error, setError] = useState("");
  const create = async (e: Event) => {
    e.preventDefault();
    setError("");
    try {
      await post("/v1/users", form);
      setForm({ name: "", email: "", password: "", profile: "agent" });
      reload();
    } catch (err) { setError((err as Error).message); }
  };
  const toggle = async (u: User) => { await patch(`/v1/users/${u.id}`, { available: !u.available }); reload(); };
  return (
    <>
      <h2>{t("admin.users")}</h2>
      <table class="grid" data-table="users">
        <thead><tr><th>{t("common.name")}</th><th>{t("user.email")}</th><th>{t("user.profile")}</th><th>{t("profile.available")}</th></tr></thead>
        <tbody>
          {(users ?? []).filter((u) => !u.deleted_at).map((u) => (
            <tr><td>{u.name}</td><td>{u.email}</td><td>{t(`profile.${u.profile}` as Key)}</td>
              <td><input type="checkbox" aria-label={t("profile.available")} checked={u.available} onChange={() => toggle(u)} /></td></tr>
          ))}
        </tbody>
      </table>
      <form class="inline card" onSubmit={create} aria-label={t("common.create")}>
        <Field label={t("common.name")}><input name="name" required value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} /></Field>
        <Field label={t("user.email")}><input name="email" type="email" required value={form.email} onInput={(e) => setForm({ ...form, email: e.currentTarget.value })} /></Field>
        <Field label={t("user.password")}><input name="password" type="password" required minLength={8} value={form.password} onInput={(e) => setForm({ ...form, password: e.currentTarget.value })} /></Field>
        <Field label={t("user.profile")}>
          <select name="profile" value={form.profile} onChange={(e) => setForm({ ...form, profile: e.currentTarget.value })}>
            {["agent", "restricted_agent", "admin"].map((p) => <option value={p}>{t(`profile.${p}` as Key)}</option>)}
          </select>
        </Field>
        <button class="primary" type="submit">{t("common.create")}</button>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
    </>
  );
}

interface Member { user_id: string; member: boolean; supervisor: boolean }

function Teams() {
  const [teams, reload] = useLoad(() => all<Team>("/v1/teams"), []);
  const [users] = useLoad(() => all<User>("/v1/users"), []);
  const [name, setName] = useState("");
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState("");
  const create = async (e: Event) => {
    e.preventDefault();
    try {
      const team = await post<Team>("/v1/teams", { name });
      setName("");
      setOpen(team.id);
      reload();
    } catch (err) { setError((err as Error).message); }
  };
  return (
    <>
      <h2>{t("admin.teams")}</h2>
      <ul class="teams">
        {(teams ?? []).map((team) => (
          <li data-team={team.name}>
            <button class="link" onClick={() => setOpen(open === team.id ? null : team.id)}><strong>{team.name}</strong></button>
            {" "}<small>{t("team.visibility")}: {team.visibility}</small>
            {open === team.id && <Members team={team} users={users ?? []} />}
          </li>
        ))}
      </ul>
      <form class="inline card" onSubmit={create} aria-label={t("admin.teams")}>
        <Field label={t("common.name")}><input name="team-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} /></Field>
        <button class="primary" type="submit">{t("common.create")}</button>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
    </>
  );
}

function Members({ team, users }: { team: Team; users: User[] }) {
  const [members, reload] = useLoad(() => get<{ items: Member[] }>(`/v1/teams/${team.id}/members`).then((l) => l.items), [team.id]);
  const [userId, setUserId] = useState("");
  const [supervisor, setSupervisor] = useState(false);
  const add = async () => { await put(`/v1/teams/${team.id}/members/${userId}`, { member: !supervisor, supervisor }); setUserId(""); reload(); };
  const remove = async (id: string) => { await del(`/v1/teams/${team.id}/members/${id}`); reload(); };
  const nameOf = (id: string) => users.find((u) => u.id === id)?.name ?? id;
  return (
    <div class="members">
      <ul class="plain">
        {(members ?? []).map((m) => (
          <li>{nameOf(m.user_id)} {m.supervisor && <span class="tag">{t("team.supervisor")}</span>}
            <button class="link" onClick={() => remove(m.user_id)}>{t("common.delete")}</button></li>
        ))}
      </ul>
      <select name="member" aria-label={t("team.add_member")} value={userId} onChange={(e) => setUserId(e.currentTarget.value)}>
        <option value="">{t("team.add_member")}</option>
        {users.filter((u) => !u.deleted_at && !(members ?? []).some((m) => m.user_id === u.id)).map((u) => <option value={u.id}>{u.name}</option>)}
      </select>
      <label class="check"><input type="checkbox" checked={supervisor} onChange={(e) => setSupervisor(e.currentTarget.checked)} /> {t("team.supervisor")}</label>
      <button disabled={!userId} onClick={add} data-action="add-member">{t("team.add_member")}</button>
    </div>
  );
}

/** What each kind asks for when it is connected (the API's `NewChannel` fields). */
const CHANNEL_FIELDS: Record<string, { field: string; secret?: boolean; required?: boolean }[]> = {
  sandbox: [],
  whatsapp_cloud: [{ field: "phone_number_id", required: true }, { field: "waba_id" }, { field: "access_token", secret: true, required: true }],
  messenger: [{ field: "page_id", required: true }, { field: "access_token", secret: true, required: true }],
  instagram: [{ field: "page_id", required: true }, { field: "access_token", secret: true, required: true }],
  telegram: [{ field: "bot_token", secret: true, required: true }, { field: "webhook_base_url" }],
};

function Channels() {
  const [form, setForm] = useState<Record<string, string>>({ kind: "sandbox", name: "" });
  const [error, setError] = useState("");
  const [tick, setTick] = useState(0);
  const fields = CHANNEL_FIELDS[form.kind] ?? [];
  const create = async (e: Event) => {
    e.preventDefault();
    setError("");
    const body: Record<string, unknown> = { kind: form.kind, name: form.name, agents_can_start: true };
    for (const f of fields) if (form[f.field]) body[f.field] = form[f.field];
    try { await post("/v1/channels", body); setTick((n) => n + 1); } catch (err) { setError((err as Error).message); }
  };
  return (
    <>
      <Listing key={tick} path="/v1/channels" columns={["name", "kind", "phone_number_id", "active"]} title={t("admin.channels")} />
      <form class="inline card" onSubmit={create}>
        <Field label={t("channel.kind")}>
          <select value={form.kind} onChange={(e) => setForm({ kind: e.currentTarget.value, name: form.name })}>
            <option value="sandbox">sandbox</option><option value="whatsapp_cloud">WhatsApp Cloud</option>
            <option value="messenger">Messenger</option><option value="instagram">Instagram</option>
            <option value="telegram">Telegram</option>
          </select>
        </Field>
        <Field label={t("common.name")}><input required value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} /></Field>
        {fields.map((f) => (
          <Field label={f.field}>
            <input type={f.secret ? "password" : "text"} required={f.required} value={form[f.field] ?? ""}
              onInput={(e) => setForm({ ...form, [f.field]: e.currentTarget.value })} />
          </Field>
        ))}
        <button class="primary" type="submit">{t("common.create")}</button>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
    </>
  );
}

function Tags() {
  const [name, setName] = useState("");
  const [tick, setTick] = useState(0);
  const [error, setError] = useState("");
  const create = async (e: Event) => {
    e.preventDefault();
    try { await post("/v1/tags", { name, colour: "#3b82f6" }); setName(""); setTick((n) => n + 1); } catch (err) { setError((err as Error).message); }
  };
  return (
    <>
      <Listing key={tick} path="/v1/tags" columns={["name", "colour"]} title={t("admin.tags")} />
      <form class="inline card" onSubmit={create}>
        <Field label={t("common.name")}><input required value={name} onInput={(e) => setName(e.currentTarget.value)} /></Field>
        <button class="primary" type="submit">{t("common.create")}</button>
        {error && <p class="error">{error}</p>}
      </form>
    </>
  );
}

function QuickReplies() {
  const [form, setForm] = useState({ shortcut: "", text: "" });
  const [tick, setTick] = useState(0);
  const [error, setError] = useState("");
  const create = async (e: Event) => {
    e.preventDefault();
    try { await post("/v1/quick-replies", { ...form, visibility: "account" }); setForm({ shortcut: "", text: "" }); setTick((n) => n + 1); } catch (err) { setError((err as Error).message); }
  };
  return (
    <>
      <Listing key={tick} path="/v1/quick-replies" columns={["shortcut", "text", "visibility"]} title={t("admin.quick")} />
      <form class="inline card" onSubmit={create}>
        <Field label="/atalho"><input required value={form.shortcut} onInput={(e) => setForm({ ...form, shortcut: e.currentTarget.value })} /></Field>
        <Field label="Texto"><textarea required value={form.text} onInput={(e) => setForm({ ...form, text: e.currentTarget.value })} /></Field>
        <button class="primary" type="submit">{t("common.create")}</button>
        {error && <p class="error">{error}</p>}
      </form>
    </>
  );
}

interface Summary { rows?: Record<string, unknown>[]; [key: string]: unknown }

function Reports() {
  const today = new Date().toISOString().slice(0, 10);
  const monthAgo = new Date(Date.now() - 30 * 864e5).toISOString().slice(0, 10);
  const [range, setRange] = useState({ from: monthAgo, to: today });
  const [summary, , error] = useLoad(() => get<Summary>(`/v1/reports/summary?from=${range.from}&to=${range.to}&group_by=team`), [range.from, range.to]);
  const [waiting] = useLoad(() => get<{ total: number; teams: { team_id: string; waiting: number; oldest_since?: string | null }[] }>("/v1/reports/waiting"), []);
  const [teams] = useLoad(() => all<Team>("/v1/teams"), []);
  const teamName = (id: string) => teams?.find((x) => x.id === id)?.name ?? id;
  return (
    <>
      <h2>{t("admin.reports")}</h2>
      <div class="inline">
        <Field label="De"><input type="date" value={range.from} onChange={(e) => setRange({ ...range, from: e.currentTarget.value })} /></Field>
        <Field label="Até"><input type="date" value={range.to} onChange={(e) => setRange({ ...range, to: e.currentTarget.value })} /></Field>
      </div>
      {error && <p class="error">{error}</p>}
      {waiting && (
        <table class="grid"><thead><tr><th>{t("filter.team")}</th><th>{t("tab.pending")}</th><th>desde</th></tr></thead>
          <tbody>{waiting.teams.map((w) => <tr><td>{teamName(w.team_id)}</td><td>{w.waiting}</td><td>{w.oldest_since ? when(w.oldest_since) : "—"}</td></tr>)}</tbody></table>
      )}
      {summary && <pre class="json">{JSON.stringify(summary, null, 2)}</pre>}
    </>
  );
}
