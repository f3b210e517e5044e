import { useEffect, useRef, useState } from "preact/hooks";
import {
  ApiError, all, contact, get, post, type Contact, type Message, type Page, type Session, type Team,
} from "../api";
import { useCtx } from "../context";
import { useLive, useLoad } from "../hooks";
import { t, when, type Key } from "../i18n";
import type { Directory } from "../directory";
import { ContactPanel } from "./contact-panel";
import { TemplateDialog } from "./template-fields";
import { Modal, Field } from "./ui";

interface QuickReply { id: string; shortcut: string; text: string }
interface Note { id: string; author_id: string; text: string; created_at: string }


export function Conversation({ id, directory, onChanged }: { id: string; directory?: Directory; onChanged: () => void }) {
  const { me } = useCtx();
  const [session, reloadSession, sessionError] = useLoad(() => get<Session>(`/v1/sessions/${id}`), [id]);
  const [messages, reloadMessages] = useLoad(
    async () => (await get<Page<Message>>(`/v1/sessions/${id}/messages?limit=100`)).items.slice().reverse(), [id]);
  const [notes, reloadNotes] = useLoad(() => get<{ items: Note[] }>(`/v1/sessions/${id}/notes`).then((l) => l.items), [id]);
  const [who, setWho] = useState<Contact | null>(null);
  const [dialog, setDialog] = useState<"transfer" | "complete" | "restart" | null>(null);
  const [error, setError] = useState("");
  const bottom = useRef<HTMLDivElement>(null);

  useEffect(() => { if (session) contact(session.contact_id).then(setWho).catch(() => undefined); }, [session?.contact_id]);
  useEffect(() => { bottom.current?.scrollIntoView({ block: "end" }); }, [messages?.length]);
  useLive((e) => e.data.session_id === id, () => { reloadSession(); reloadMessages(); reloadNotes(); }, [id]);

  if (sessionError) return <p class="error">{sessionError}</p>;
  if (!session || !messages) return <p class="hint">{t("common.loading")}</p>;

  const act = async (work: () => Promise<unknown>) => {
    setError("");
    try {
      await work();
      reloadSession();
      reloadMessages();
      onChanged();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const mine = session.owner_id === me.user.id;
  const open = session.status !== "completed";
  // The server applies the channel kind's rule (WhatsApp 24 h + templates, Messenger and
  // Instagram 7 days for a person, Telegram none).
  const windowState = session.window ?? "closed";
  const windowOpen = windowState === "open" || windowState === "human_agent";
  const team = directory?.teams.find((x) => x.id === session.team_id)?.name ?? "";
  const owner = directory?.users.find((u) => u.id === session.owner_id)?.name ?? (mine ? me.user.name : "");
  const timeline: { at: string; message?: Message; note?: Note }[] = [
    ...messages.map((m) => ({ at: m.created_at, message: m })),
    ...(notes ?? []).map((n) => ({ at: n.created_at, note: n })),
  ].sort((a, b) => a.at.localeCompare(b.at));

  return (
    <div class="conversation">
      <div class="thread">
        <header class="session-head">
          <div>
            <h2 data-contact-name>{who?.name || who?.phone || "…"}</h2>
            <small>{t("session.protocol")} #{session.protocol} · {team}{owner ? ` · ${owner}` : ""} · <span data-session-status={session.status}>{t(`session.status.${session.status}` as Key)}</span></small>
            <small class={windowOpen ? "window open" : "window closed"} data-window={windowState}>{t(`session.window.${windowState}` as Key)}</small>
          </div>
          <div class="actions">
            {session.status === "pending" && <button class="primary" data-action="assume" onClick={() => act(() => post(`/v1/sessions/${id}/assume`))}>{t("session.assume")}</button>}
            {open && <button data-action="transfer" onClick={() => setDialog("transfer")}>{t("session.transfer")}</button>}
            {session.status === "in_progress" && <button data-action="return" onClick={() => act(() => post(`/v1/sessions/${id}/return`))}>{t("session.return")}</button>}
            {open && <button data-action="complete" onClick={() => setDialog("complete")}>{t("session.complete")}</button>}
            {!open && <button data-action="restart" onClick={() => setDialog("restart")}>{t("session.restart")}</button>}
          </div>
        </header>
        {error && <p class="error" role="alert">{error}</p>}
        <div class="messages" aria-live="polite">
          {timeline.map((item) => item.message
            ? <Bubble key={item.message.id} m={item.message} all={messages} onCancel={() => act(() => post(`/v1/messages/${item.message!.id}/cancel`))} />
            : <div class="note" key={item.note!.id}><strong>{t("composer.note")}</strong> {item.note!.text}<time>{when(item.note!.created_at)}</time></div>)}
          <div ref={bottom} />
        </div>
        {open && <Composer session={session} windowOpen={windowOpen} onSent={() => { reloadMessages(); reloadNotes(); onChanged(); }} />}
      </div>
      {who && <ContactPanel contact={who} directory={directory} />}
      {dialog === "transfer" && directory && (
        <Transfer session={session} directory={directory} onClose={() => setDialog(null)} onDone={() => { setDialog(null); reloadSession(); onChanged(); }} />
      )}
      {dialog === "complete" && <Complete session={session} onClose={() => setDialog(null)} onDone={() => { setDialog(null); reloadSession(); onChanged(); }} />}
      {dialog === "restart" && (
        <TemplateDialog title={t("session.restart")} channelId={session.channel_id} action={t("session.restart")} onClose={() => setDialog(null)}
          onSubmit={async (template_id, parameters) => {
            await post(`/v1/sessions/${id}/restart`, { template_id, parameters });
            setDialog(null);
            reloadSession();
            reloadMessages();
            onChanged();
          }} />
      )}
    </div>
  );
}

/** Meta's failure in plain words (the API's reason), its code beside it. */
function Bubble({ m, all: thread, onCancel }: { m: Message; all: Message[]; onCancel: () => void }) {
  const quoted = m.reply_to ? thread.find((x) => x.id === m.reply_to) : undefined;
  const cancellable = m.status === "queued" && m.cancellable_until && Date.parse(m.cancellable_until) > Date.now();
  const text = m.text ?? (m.content && typeof m.content.text === "string" ? m.content.text : null);
  return (
    <div class={`bubble ${m.direction === "in" ? "inbound" : "outbound"}`} data-message={m.id} data-status={m.status}>
      {quoted && <blockquote>{quoted.text ?? quoted.kind}</blockquote>}
      {m.media && <MediaPreview m={m} />}
      {text && <p>{text}</p>}
      {!text && !m.media && <p class="kind">[{m.kind}]</p>}
      {m.transcription?.text && <p class="transcript">“{m.transcription.text}”</p>}
      {m.reactions.length > 0 && <span class="reactions">{m.reactions.map((r) => r.emoji).join(" ")}</span>}
      <footer>
        <time>{when(m.created_at)}</time>
        {m.direction === "out" && <span class={`status ${m.status}`} data-status-label>{statusWord(m.status)}</span>}
        {m.error && <span class="failure" title={m.error.code ? `#${m.error.code}` : ""}>{m.error.reason}</span>}
        {cancellable && <button class="link" onClick={onCancel}>{t("message.cancel")}</button>}
      </footer>
    </div>
  );
}

function statusWord(status: string): string {
  return t(`status.${status}` as Key) ?? status;
}

function MediaPreview({ m }: { m: Message }) {
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState("");
  useEffect(() => {
    if (!m.media?.blob_key) return;
    get<{ url: string }>(`/v1/messages/${m.id}/media`).then((l) => setUrl(l.url)).catch((e: Error) => setFailed(e.message));
  }, [m.id, m.media?.blob_key]);
  const mime = m.media?.mime_type ?? "";
  if (m.media?.fetch_error) return <p class="failure">{m.media.fetch_error}</p>;
  if (failed) return <p class="failure">{failed}</p>;
  if (!url) return <p class="kind">[{m.kind}]</p>;
  return (
    <div class="media">
      {mime.startsWith("image/") && <img src={url} alt={m.media?.filename ?? m.kind} loading="lazy" />}
      {mime.startsWith("audio/") && <audio controls src={url} />}
      {mime.startsWith("video/") && <video controls src={url} />}
      <a href={url} download={m.media?.filename ?? ""} target="_blank" rel="noreferrer">{t("message.download")} {m.media?.filename ?? ""}</a>
    </div>
  );
}

function Composer({ session, windowOpen, onSent }: { session: Session; windowOpen: boolean; onSent: () => void }) {
  const [text, setText] = useState("");
  const [note, setNote] = useState(false);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [picker, setPicker] = useState<"quick" | "template" | null>(null);
  const file = useRef<HTMLInputElement>(null);

  /** One send at a time; the text is cleared and the thread reloaded once it went. */
  const sending = async (work: () => Promise<unknown>) => {
    setBusy(true);
    setError("");
    try {
      await work();
      setText("");
      onSent();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const send = async () => {
    if (!text.trim() || busy) return;
    await sending(() => note
      ? post(`/v1/sessions/${session.id}/notes`, { text })
      : post(`/v1/sessions/${session.id}/messages`, { type: "text", text }));
  };

  const attach = (chosen: File) => sending(async () => {
    const uploaded = await upload(chosen);
    const kind = chosen.type.startsWith("image/") ? "image" : chosen.type.startsWith("audio/") ? "audio"
      : chosen.type.startsWith("video/") ? "video" : "document";
    await post(`/v1/sessions/${session.id}/messages`, { type: "media", kind, blob_key: uploaded, filename: chosen.name, caption: text || null });
  });

  return (
    <div class={`composer ${note ? "noting" : ""}`}>
      {error && <p class="error" role="alert">{error}</p>}
      <textarea aria-label={t("composer.placeholder")} placeholder={t("composer.placeholder")} value={text} rows={3}
        disabled={!windowOpen && !note}
        onInput={(e) => { const v = e.currentTarget.value; setText(v); if (v === "/") setPicker("quick"); }}
        onKeyDown={(e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); void send(); } }} />
      <div class="tools">
        <label class="check"><input type="checkbox" checked={note} onChange={(e) => setNote(e.currentTarget.checked)} /> {t("composer.note")}</label>
        <button type="button" onClick={() => setPicker("quick")} disabled={!windowOpen}>{t("composer.quick")}</button>
        <button type="button" onClick={() => setPicker("template")}>{t("composer.template")}</button>
        <button type="button" onClick={() => file.current?.click()} disabled={!windowOpen}>{t("composer.attach")}</button>
        <input ref={file} type="file" hidden onChange={(e) => { const f = e.currentTarget.files?.[0]; if (f) void attach(f); e.currentTarget.value = ""; }} />
        {["👍", "🙂", "🙏", "✅"].map((emoji) => <button type="button" class="emoji" onClick={() => setText((v) => v + emoji)}>{emoji}</button>)}
        <button type="button" class="primary" data-action="send" disabled={busy || (!windowOpen && !note)} onClick={send}>{t("composer.send")}</button>
      </div>
      {picker === "quick" && <QuickPicker session={session} onPick={(v) => { setText(v); setPicker(null); }} onClose={() => setPicker(null)} />}
      {picker === "template" && (
        <TemplateDialog title={t("composer.template")} channelId={session.channel_id} action={t("composer.send")} onClose={() => setPicker(null)}
          onSubmit={async (template_id, parameters) => {
            await post(`/v1/sessions/${session.id}/messages`, { type: "template", template_id, parameters });
            setPicker(null);
            onSent();
          }} />
      )}
    </div>
  );
}

/** Files go straight to object storage through a presigned upload issued by the API;
 * the API checks type and size before issuing it and again when the file is sent. */
export async function upload(chosen: File): Promise<string> {
  const grant = await post<{ blob_key: string; url: string; method: string; headers: Record<string, string> }>(
    "/v1/uploads/presign", { filename: chosen.name, content_type: chosen.type || "application/octet-stream", size: chosen.size });
  const sent = await fetch(grant.url, { method: grant.method, headers: grant.headers, body: chosen });
  if (!sent.ok) throw new ApiError(sent.status, "upload_failed", `${sent.status} ${sent.statusText}`);
  return grant.blob_key;
}

function QuickPicker({ session, onPick, onClose }: { session: Session; onPick: (text: string) => void; onClose: () => void }) {
  const [replies] = useLoad(() => all<QuickReply>("/v1/quick-replies"), []);
  const [filter, setFilter] = useState("");
  const pick = async (r: QuickReply) => {
    const rendered = await post<{ text: string }>(`/v1/quick-replies/${r.id}/render`, { session_id: session.id }).catch(() => ({ text: r.text }));
    onPick(rendered.text);
  };
  const shown = (replies ?? []).filter((r) => `${r.shortcut} ${r.text}`.toLowerCase().includes(filter.toLowerCase()));
  return (
    <Modal title={t("composer.quick")} onClose={onClose}>
      <input autoFocus placeholder="/" value={filter} onInput={(e) => setFilter(e.currentTarget.value)}
        onKeyDown={(e) => { if (e.key === "Enter" && shown[0]) void pick(shown[0]); }} />
      <ul class="picker">{shown.map((r) => <li><button class="link" onClick={() => pick(r)}><strong>/{r.shortcut}</strong> {r.text}</button></li>)}</ul>
    </Modal>
  );
}

function Transfer({ session, directory, onClose, onDone }: { session: Session; directory: Directory; onClose: () => void; onDone: () => void }) {
  const [mode, setMode] = useState<"team" | "user">("team");
  const [teamId, setTeamId] = useState("");
  const [userId, setUserId] = useState("");
  const [userTeam, setUserTeam] = useState("");
  const [error, setError] = useState("");
  // The team choice rule: a person outside the session's team receives it in one of their
  // teams, which the API asks for; the console offers theirs.
  const [theirTeams] = useLoad<Team[]>(async () => {
    if (!userId) return [];
    const memberships = await Promise.all(directory.teams.map(async (team) => {
      const members = await get<{ items: { user_id: string }[] }>(`/v1/teams/${team.id}/members`).catch(() => ({ items: [] }));
      return members.items.some((m) => m.user_id === userId) ? team : null;
    }));
    return memberships.filter((x): x is Team => !!x);
  }, [userId]);
  const needsTeam = mode === "user" && !!theirTeams && !theirTeams.some((x) => x.id === session.team_id);
  const submit = async () => {
    try {
      const body = mode === "team" ? { team_id: teamId } : { user_id: userId, team_id: needsTeam ? userTeam || null : null };
      await post(`/v1/sessions/${session.id}/transfer`, body);
      onDone();
    } catch (e) { setError((e as Error).message); }
  };
  return (
    <Modal title={t("transfer.title")} onClose={onClose}>
      <div class="segmented">
        <label><input type="radio" checked={mode === "team"} onChange={() => setMode("team")} /> {t("transfer.team")}</label>
        <label><input type="radio" checked={mode === "user"} onChange={() => setMode("user")} /> {t("transfer.user")}</label>
      </div>
      {mode === "team" ? (
        <Field label={t("filter.team")}>
          <select name="team" value={teamId} onChange={(e) => setTeamId(e.currentTarget.value)}>
            <option value="" />
            {directory.teams.map((x) => <option value={x.id}>{x.name}</option>)}
          </select>
        </Field>
      ) : (
        <>
          <Field label={t("filter.agent")}>
            <select name="user" value={userId} onChange={(e) => setUserId(e.currentTarget.value)}>
              <option value="" />
              {directory.users.filter((u) => !u.deleted_at).map((u) => <option value={u.id}>{u.name}</option>)}
            </select>
          </Field>
          {needsTeam && (
            <Field label={t("transfer.user_team")}>
              <select name="user_team" value={userTeam} onChange={(e) => setUserTeam(e.currentTarget.value)}>
                <option value="" />
                {theirTeams!.map((x) => <option value={x.id}>{x.name}</option>)}
              </select>
            </Field>
          )}
        </>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      <button class="primary" data-action="confirm-transfer" disabled={mode === "team" ? !teamId : !userId} onClick={submit}>{t("session.transfer")}</button>
    </Modal>
  );
}

interface Reason { id: string; name: string; category: string; requires_amount: boolean }

function Complete({ session, onClose, onDone }: { session: Session; onClose: () => void; onDone: () => void }) {
  const [reasons] = useLoad(() => all<Reason>("/v1/classification-reasons"), []);
  const [category, setCategory] = useState("question");
  const [reasonId, setReasonId] = useState("");
  const [amount, setAmount] = useState("");
  const [error, setError] = useState("");
  const reason = reasons?.find((r) => r.id === reasonId);
  const submit = async () => {
    const cents = amount ? Math.round(Number(amount.replace(/\./g, "").replace(",", ".")) * 100) : null;
    try {
      await post(`/v1/sessions/${session.id}/complete`, { classification: { category, reason_id: reasonId || null, amount_cents: cents } });
      onDone();
    } catch (e) { setError((e as Error).message); }
  };
  return (
    <Modal title={t("complete.title")} onClose={onClose}>
      <Field label={t("complete.category")}>
        <select name="category" value={category} onChange={(e) => { setCategory(e.currentTarget.value); setReasonId(""); }}>
          {["won", "lost", "question", "other"].map((c) => <option value={c}>{t(`category.${c}` as Key)}</option>)}
        </select>
      </Field>
      {reasons && reasons.some((r) => r.category === category) && (
        <Field label={t("complete.reason")}>
          <select name="reason" value={reasonId} onChange={(e) => setReasonId(e.currentTarget.value)}>
            <option value="" />
            {reasons.filter((r) => r.category === category).map((r) => <option value={r.id}>{r.name}</option>)}
          </select>
        </Field>
      )}
      {reason?.requires_amount && (
        <Field label={t("complete.amount")}><input inputMode="decimal" value={amount} onInput={(e) => setAmount(e.currentTarget.value)} /></Field>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      <button class="primary" data-action="confirm-complete" onClick={submit}>{t("session.complete")}</button>
    </Modal>
  );
}
