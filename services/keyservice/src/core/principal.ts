import type { DataClass } from '@cz/common/crypto';
import type { CallerOperation } from '@cz/contracts';

/** Who is calling: a security officer or a service, as authenticated by its bearer credential. */
export interface Principal {
  kind: 'officer' | 'service';
  name: string;
  /** data classes a service may use; empty = none (deny by default) */
  classes: DataClass[];
  /** what a service may do (keys.seal, keys.unwrap, …); empty = nothing */
  operations: CallerOperation[];
  /** corps a service may act for (`*` = every corp); empty = none */
  corps: string[];
}

/** The audit trail's name for a caller: `officer:<name>`, `service:<name>`, or `anonymous`. */
export const actorOf = (principal: Principal | undefined | null): string =>
  principal ? `${principal.kind}:${principal.name}` : 'anonymous';

/** A comma-separated column as a list (empty string → empty list). */
export const listOf = <T extends string>(column: string | null | undefined): T[] =>
  (column ?? '').split(',').filter(Boolean) as T[];
