import { randomBytes } from 'node:crypto';
import type { CallerDirectory } from '@cz/common';
import type { CallerGrants, CallerOperation, IntrospectReply } from '@cz/contracts';

/**
 * Stands in for the key service's introspection, so a test can hold credentials with exactly the
 * grants an attack needs (another corp's writer, a reader that tries to write, a revoked one). The
 * key service's own tests cover issuing them for real; call-flow.test.ts uses the real key service.
 */
export class StubCallerDirectory implements CallerDirectory {
  private readonly byToken = new Map<string, CallerGrants>();

  /** A new credential of caller `name` with `operations` for `corps`. */
  issue(name: string, operations: CallerOperation[], corps: string[] = ['*']): string {
    const token = `cks_${randomBytes(24).toString('base64url')}`;
    this.byToken.set(token, { name, kind: 'service', classes: [], operations, corps });
    return token;
  }

  revoke(token: string): void {
    this.byToken.delete(token);
  }

  introspectCaller(token: string): Promise<IntrospectReply> {
    const caller = this.byToken.get(token);
    return Promise.resolve(caller ? { active: true, caller } : { active: false });
  }

  callerGrants(name: string): Promise<CallerGrants | undefined> {
    return Promise.resolve([...this.byToken.values()].find((caller) => caller.name === name));
  }
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
