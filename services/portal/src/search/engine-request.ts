import type { ParsedQuery } from '@cz/common/search';
import type { Direction, Position, SqlCondition, TimeBounds } from './plan';

/*
 * What the search engine is asked: the parsed keywords, the metadata filters, the user's data
 * scope, the order and the page. The API builds it from a `SearchRequest` (search-request.ts);
 * the bench builds it directly.
 */

/** Someone a record must involve: a person (employee, org unit) or a customer. Each one must hold. */
export interface PartyConstraint {
  /** message: one of these is the sender or a recipient */
  messageParticipants: string[];
  /** call: the agent is one of these */
  callAgents: string[];
  /** call: the customer number's blind index is one of these (BIGINT UNSIGNED, decimal) */
  callCustomerIndexes: string[];
}

/** Only records with an alert attached: of at least this severity rank (1 info … 3 critical), of this kind. */
export interface AlertFilter {
  minSeverity: number;
  kind?: string;
}

export interface SearchFilters {
  bounds: TimeBounds;
  /** record kinds that may match (KIND_MESSAGE, KIND_CALL) */
  kinds: number[];
  msgtypes?: string[];
  conversation?: string;
  businessType?: string;
  parties: PartyConstraint[];
  alerts?: AlertFilter;
  /** REG-05: the user's data scope over `m` and `c`; left out (or null) for users who see everything */
  scope?: { message: SqlCondition; call: SqlCondition };
}

export interface EngineRequest {
  query: ParsedQuery | undefined;
  filters: SearchFilters;
  direction: Direction;
  limit: number;
  after: Position | undefined;
  count: boolean;
}
