import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Me } from "./api";
import type { Live } from "./live";

export interface Ctx { me: Me; live: Live; setMe: (m: Me | null) => void }

export const Context = createContext<Ctx>(null as unknown as Ctx);
export const useCtx = () => useContext(Context);
