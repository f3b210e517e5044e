import { useState } from "preact/hooks";
import { post } from "../api";
import { useCtx } from "../context";
import { t } from "../i18n";
import { go } from "../route";
import { TemplateFields, lines } from "./template-fields";
import type { Directory } from "../directory";
import { Field, Modal } from "./ui";


/** Start a conversation: contact (phone) → channel → team → template with parameters. */
export function StartConversation({ directory, onClose }: { directory: Directory; onClose: () => void }) {
  const { me } = useCtx();
  const myTeams = directory.teams.filter((x) => me.user.profile === "admin" || me.teams.some((m) => m.team_id === x.id));
  const [phone, setPhone] = useState("");
  const [channelId, setChannelId] = useState(directory.channels[0]?.id ?? "");
  const [teamId, setTeamId] = useState(myTeams[0]?.id ?? "");
  const [templateId, setTemplateId] = useState("");
  const [params, setParams] = useState("");
  const [error, setError] = useState("");
  const submit = async () => {
    try {
      const started = await post<{ session: { id: string } }>("/v1/sessions", {
        phone, channel_id: channelId, team_id: teamId, template_id: templateId, parameters: lines(params),
      });
      onClose();
      go("inbox", started.session.id);
    } catch (e) { setError((e as Error).message); }
  };
  return (
    <Modal title={t("start.title")} onClose={onClose}>
      <Field label={t("start.phone")}><input type="tel" placeholder="+55 11 98765-4321" value={phone} onInput={(e) => setPhone(e.currentTarget.value)} /></Field>
      <Field label={t("start.channel")}>
        <select value={channelId} onChange={(e) => setChannelId(e.currentTarget.value)}>
          {directory.channels.map((c) => <option value={c.id}>{c.name}</option>)}
        </select>
      </Field>
      <Field label={t("start.team")}>
        <select value={teamId} onChange={(e) => setTeamId(e.currentTarget.value)}>
          {myTeams.map((x) => <option value={x.id}>{x.name}</option>)}
        </select>
      </Field>
      <TemplateFields channelId={channelId} templateId={templateId} onTemplate={setTemplateId} params={params} onParams={setParams} />
      {error && <p class="error" role="alert">{error}</p>}
      <button class="primary" disabled={!phone || !channelId || !teamId || !templateId} onClick={submit}>{t("start.title")}</button>
    </Modal>
  );
}
