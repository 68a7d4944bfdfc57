import { verifyFiles, type FileVerification, type VerifyMode, type VerifyTarget } from "../io/verify-record";
import type { BankManifest } from "./format";

/** A bank's verification record (`verified.json`, src/io/verify-record.ts). */
export const BANK_VERIFY: VerifyTarget = { format: "vislens-bank-verified", owner: "the bank manifest" };

export type BankVerification = FileVerification;

/** Checks every file bank.json lists (see `verifyFiles`): sizes always, checksums by `mode`. */
export function verifyBankFiles(dir: string, manifest: BankManifest, mode: VerifyMode = "record"): BankVerification {
  return verifyFiles(dir, manifest.files, BANK_VERIFY, mode);
}
