import type { DataClass } from '@cz/common/crypto';

/** Who is calling: a security officer or a service, as authenticated by its bearer credential. */
export interface Principal {
  kind: 'officer' | 'service';
  name: string;
  /** data classes a service may use; empty = all */
  classes: DataClass[];
}

/** The audit trail's name for a caller: `officer:<name>`, `service:<name>`, or `anonymous`. */
export const actorOf = (principal: Principal | undefined | null): string =>
  principal ? `${principal.kind}:${principal.name}` : 'anonymous';
