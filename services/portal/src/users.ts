import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { CurrentUser, Role } from '@cz/contracts';

const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } satisfies ScryptOptions;
const KEY_LENGTH = 32;

const scryptAsync = (password: string, salt: Buffer, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scrypt(password, salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))),
  );

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await scryptAsync(password, Buffer.from(salt, 'base64'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

export interface NewUser {
  username: string;
  displayName: string;
  roles: Role[];
  password: string;
}

/** Creates the account, or resets its name, roles and password when it exists. */
export async function upsertUser(db: DataSource, user: NewUser): Promise<void> {
  await db.query(
    `INSERT INTO portal_user (username, display_name, roles, password_hash) VALUES (?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE display_name = VALUES(display_name), roles = VALUES(roles), password_hash = VALUES(password_hash), disabled = 0`,
    [user.username, user.displayName, user.roles.join(','), await hashPassword(user.password)],
  );
}

interface UserRow {
  username: string;
  display_name: string;
  roles: string;
  password_hash: string;
  disabled: number;
}

export async function findActiveUser(
  db: DataSource,
  username: string,
): Promise<(CurrentUser & { passwordHash: string }) | undefined> {
  const rows: UserRow[] = await db.query(
    'SELECT username, display_name, roles, password_hash, disabled FROM portal_user WHERE username = ?',
    [username],
  );
  const row = rows[0];
  if (!row || row.disabled) return undefined;
  return {
    username: row.username,
    displayName: row.display_name,
    roles: row.roles.split(',').filter(Boolean) as Role[],
    passwordHash: row.password_hash,
  };
}

// A fixed hash to compare against when the user does not exist, so timing does not reveal accounts.
export const DUMMY_PASSWORD_HASH = `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=`;
