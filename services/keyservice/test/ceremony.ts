/**
 * The init ceremony for tests that wire the key service's parts by hand (no HTTP): officers enrol
 * SM2 keys, init returns ciphertexts, each officer decrypts their own share and credential.
 */
import { sm2GenerateKeyPair } from '@cz/common/crypto';
import type { DataSource } from 'typeorm';
import type { Credentials } from '../src/core/credentials';
import { decryptAsOfficer } from '../src/core/officer-envelope';
import type { Principal } from '../src/core/principal';
import type { Sealing } from '../src/core/sealing';

export const BOOTSTRAP_SECRET = 'parts-test-bootstrap-secret';

export const officerPrincipal = (name: string): Principal => ({
  kind: 'officer',
  name,
  classes: [],
  operations: [],
  corps: [],
});

export interface HandCeremony {
  /** one share per officer, in name order, with the officer who submits it */
  shares: { officer: Principal; share: string; token: string }[];
}

export async function initByHand(
  db: DataSource,
  sealing: Sealing,
  credentials: Credentials,
  names: string[],
  threshold: number,
): Promise<HandCeremony> {
  const keys = new Map<string, string>();
  for (const name of names) {
    const pair = sm2GenerateKeyPair();
    keys.set(name, pair.privateKey);
    await db.transaction((tx) => credentials.enrolOfficer(tx, name, pair.publicKey));
  }
  const reply = await sealing.init({ threshold, bootstrapSecret: BOOTSTRAP_SECRET });
  return {
    shares: reply.officers.map((o) => ({
      officer: officerPrincipal(o.name),
      share: decryptAsOfficer(o.encryptedShare, keys.get(o.name)!),
      token: decryptAsOfficer(o.encryptedCredential, keys.get(o.name)!),
    })),
  };
}
