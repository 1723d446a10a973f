import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt } from 'node:crypto';

export const SECURITY_REVERT_PKCS1 = '--security-revert=CVE-2023-46809';

let probed: boolean | undefined;

/**
 * Whether this Node refuses RSA PKCS#1 v1.5 private decryption (the CVE-2023-46809 fix, in Node
 * 18.19.1 / 20.11.1 / 21.6.2 and later when OpenSSL lacks implicit rejection). Probed once with a
 * throwaway key rather than guessed from version numbers: OpenSSL ≥ 3.2 builds (implicit
 * rejection) allow it again, and then the sandbox child needs no security revert at all.
 */
export function pkcs1DecryptNeedsRevert(): boolean {
  if (probed !== undefined) return probed;
  // a process that itself runs reverted cannot tell by probing: pass the flag on
  if (process.execArgv.includes(SECURITY_REVERT_PKCS1)) return (probed = true);
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const ciphertext = publicEncrypt(
    { key: publicKey, padding: constants.RSA_PKCS1_PADDING },
    Buffer.from('probe'),
  );
  try {
    privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, ciphertext);
    probed = false;
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_INVALID_ARG_VALUE') throw err;
    probed = true;
  }
  return probed;
}
