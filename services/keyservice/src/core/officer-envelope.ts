import { createHash } from 'node:crypto';
import { sm2 } from 'sm-crypto-v2';

/** C1C3C2 (GM/T 0003.4-2012 order), as the SM2 encryption standard now specifies */
const C1C3C2 = 1;

/** Whether `publicKeyHex` is an uncompressed SM2 point on the curve (04 ‖ X ‖ Y). */
export function isSm2PublicKey(publicKeyHex: string): boolean {
  if (!/^04[0-9a-fA-F]{128}$/.test(publicKeyHex)) return false;
  try {
    return sm2.verifyPublicKey(publicKeyHex.toLowerCase());
  } catch {
    return false;
  }
}

/**
 * Encrypts a secret (a share, a credential) to one officer's SM2 public key: only that officer's
 * private key opens it, so whoever relays it (the runner of init, the console, a log) cannot.
 */
export function encryptToOfficer(plaintext: string, publicKeyHex: string): string {
  return sm2.doEncrypt(plaintext, publicKeyHex.toLowerCase(), C1C3C2);
}

/** The officer's side (CLI, tests): opens what `encryptToOfficer` sealed; throws if it does not open. */
export function decryptAsOfficer(ciphertextHex: string, privateKeyHex: string): string {
  let plaintext = '';
  try {
    plaintext = sm2.doDecrypt(ciphertextHex, privateKeyHex, C1C3C2, { output: 'string' });
  } catch {
    plaintext = '';
  }
  if (!plaintext) throw new Error('this ciphertext does not open with this officer key');
  return plaintext;
}

/** SM3 of an SM2 public key's bytes (04 ‖ X ‖ Y), as officers compare it out of band. */
export const publicKeyFingerprint = (publicKeyHex: string) =>
  createHash('sm3').update(Buffer.from(publicKeyHex, 'hex')).digest('hex');
