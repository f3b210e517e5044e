import { useState } from "preact/hooks";
import { all } from "../api";
import { useLoad } from "../hooks";
import { t } from "../i18n";
import { Field, Modal } from "./ui";

interface Template { id: string; name: string; language: string; status: string; channel_id?: string | null }

/** Parameters typed one per line, as the API takes them (`["Ana", "10/12"]`). */
export const lines = (text: string) => text.split("\n").map((s) => s.trim()).filter(Boolean);

/** An approved template of the channel and its parameters. */
export function TemplateFields({ channelId, templateId, onTemplate, params, onParams }: {
  channelId: string; templateId: string; onTemplate: (id: string) => void; params: string; onParams: (text: string) => void;
}) {
  const [templates] = useLoad(() => all<Template>("/v1/templates"), []);
  const usable = (templates ?? []).filter((x) => x.status === "approved" && (!x.channel_id || x.channel_id === channelId));
  return (
    <>
      <Field label={t("start.template")}>
        <select value={templateId} onChange={(e) => onTemplate(e.currentTarget.value)}>
          <option value="" />
          {usable.map((x) => <option value={x.id}>{x.name} ({x.language})</option>)}
        </select>
      </Field>
      <Field label={t("start.parameters")}><textarea value={params} onInput={(e) => onParams(e.currentTarget.value)} /></Field>
    </>
  );
}

/** A dialog that does one thing with a template: send it, reopen a session with it. */
export function TemplateDialog({ title, channelId, action, onSubmit, onClose }: {
  title: string; channelId: string; action: string;
  onSubmit: (templateId: string, parameters: string[]) => Promise<unknown>; onClose: () => void;
}) {
  const [templateId, setTemplateId] = useState("");
  const [params, setParams] = useState("");
  const [error, setError] = useState("");
  const submit = async () => {
    try { await onSubmit(templateId, lines(params)); } catch (e) { setError((e as Error).message); }
  };
  return (
    <Modal title={title} onClose={onClose}>
      <TemplateFields channelId={channelId} templateId={templateId} onTemplate={setTemplateId} params={params} onParams={setParams} />
      {error && <p class="error" role="alert">{error}</p>}
      <button class="primary" disabled={!templateId} onClick={submit}>{action}</button>
    </Modal>
  );
}
