/**
 * Masking of personal data in text shown to staff (REG-04, PIPL): mainland mobile numbers,
 * resident ID card numbers and bank card numbers. Masking is the default for every response;
 * unmasking is a separate, approved and audited grant.
 */

// 18-digit resident ID (last char may be X); checked before bank cards so it is not half-masked.
const ID_CARD =
  /(?<!\d)([1-9]\d{5})(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}([\dXx])(?!\d)/g;
// Bank card: 16-19 digits, optionally grouped by spaces or dashes in fours.
const BANK_CARD = /(?<!\d)\d(?:[ -]?\d){15,18}(?!\d)/g;
// Mainland mobile: 11 digits starting 13-19, optional +86 / 86 prefix, optional spaces/dashes 3-4-4.
const MOBILE = /(?<!\d)((?:\+?86[ -]?)?1[3-9]\d)[ -]?\d{4}[ -]?(\d{4})(?!\d)/g;

export function maskIdCard(text: string): string {
  return text.replace(ID_CARD, (_m, head: string, last: string) => `${head}***********${last}`);
}

export function maskBankCard(text: string): string {
  return text.replace(BANK_CARD, (match: string) => {
    const digits = match.replace(/[ -]/g, '');
    return `${digits.slice(0, 4)} **** **** ${digits.slice(-4)}`;
  });
}

export function maskMobile(text: string): string {
  return text.replace(MOBILE, (_m, head: string, tail: string) => `${head}****${tail}`);
}

/** Masks every kind of personal number the archive knows about. */
export function maskPersonalData(text: string): string {
  return maskMobile(maskBankCard(maskIdCard(text)));
}
