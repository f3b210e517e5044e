import type { ComponentChildren } from "preact";
import { useEffect } from "preact/hooks";
import { t } from "../i18n";

export function Modal({ title, onClose, children }: { title: string; onClose: () => void; children: ComponentChildren }) {
  useEffect(() => {
    const escape = (e: KeyboardEvent) => { if (e.key === "Escape") onClose(); };
    addEventListener("keydown", escape);
    return () => removeEventListener("keydown", escape);
  }, [onClose]);
  return (
    <div class="backdrop" onClick={(e) => { if (e.target === e.currentTarget) onClose(); }}>
      <div class="modal card" role="dialog" aria-modal="true" aria-label={title}>
        <header><h3>{title}</h3><button class="link" aria-label={t("common.cancel")} onClick={onClose}>×</button></header>
        {children}
      </div>
    </div>
  );
}

export function Field({ label, children }: { label: string; children: ComponentChildren }) {
  return <label class="field"><span>{label}</span>{children}</label>;
}
