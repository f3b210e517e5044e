// The account's teams, users, channels and tags, read once per screen: what filters, lists
// and pickers name.

import { all, type Team, type User } from "./api";
import { useLoad } from "./hooks";

/** The lists screens filter and pick by. */
export interface Directory { teams: Team[]; users: User[]; channels: { id: string; name: string; kind: string }[]; tags: { id: string; name: string; colour: string }[] }

export function useDirectory(): Directory | undefined {
  const [directory] = useLoad<Directory>(async () => {
    const [teams, users, channels, tags] = await Promise.all([
      all<Team>("/v1/teams"),
      all<User>("/v1/users").catch(() => [] as User[]),
      all<Directory["channels"][number]>("/v1/channels"),
      all<Directory["tags"][number]>("/v1/tags"),
    ]);
    return { teams, users, channels, tags };
  }, []);
  return directory;
}

