// Types of kyso.js, the Kyso page library (protocol v1).

export declare const DEFAULT_PORT: 28418;
export declare const PROTOCOL: 1;

/** Protocol v1 error codes, plus NOT_INSTALLED (neither the extension nor the agent answered). */
export type KysoErrorCode =
  | "BAD_REQUEST" | "UNKNOWN_OP" | "ORIGIN_DENIED" | "USER_CANCELLED" | "TIMEOUT"
  | "BUSY" | "RATE_LIMITED" | "NO_TOKEN" | "NO_CERTIFICATE" | "CERTIFICATE_NOT_FOUND"
  | "UNSUPPORTED_ALGORITHM" | "PIN_LOCKED" | "TOKEN_REMOVED" | "TOKEN_ERROR" | "INTERNAL"
  | "NOT_INSTALLED";

export declare class KysoError extends Error {
  readonly name: "KysoError";
  /** Branch on this, never on message (which is for people, Vietnamese or English). */
  readonly code: KysoErrorCode;
  /** For TOKEN_ERROR: the PKCS#11 CKR_ name. */
  readonly detail?: string;
}

export type HashFunction = "SHA-224" | "SHA-256" | "SHA-384" | "SHA-512" | "SHA3-256" | "SHA3-384" | "SHA3-512";
export type Scheme = "RSASSA-PKCS1-v1_5" | "RSASSA-PSS" | "ECDSA";
/** Standard base64 (with padding) string, or raw bytes. */
export type BinaryInput = string | Uint8Array | ArrayBuffer | ArrayBufferView;

export interface VersionResult { version: string; protocol: number; }

export interface TokenInfo { label: string; manufacturer: string; model: string; serialNumber: string; }

export interface CertificateResult {
  /** DER, base64. */
  certificate: string;
  /** Hex SHA-256 of the DER: what sign and signBatch take. */
  certificateId: string;
  subject: string;
  issuer: string;
  serialNumber: string;
  /** RFC 3339. */
  notBefore: string;
  notAfter: string;
  token: TokenInfo;
  signatureAlgorithms: { scheme: Scheme; hashFunction: HashFunction }[];
  /** CA certificates found on the token (DER, base64); possibly empty. */
  chain: string[];
}

export interface GetCertificateOptions { filter?: { issuer?: string }; }

interface SignCommon {
  certificateId: string;
  hashFunction: HashFunction;
  /** Default: RSASSA-PKCS1-v1_5 for RSA keys, ECDSA for EC keys. */
  scheme?: Scheme;
  /** At most 256 characters, shown in the dialog as supplied by the page (unverified). */
  description?: string;
}
export interface SignParams extends SignCommon { hash: BinaryInput; }
export interface SignBatchParams extends SignCommon { hashes: BinaryInput[]; }

export interface SignResult {
  /** RSA: raw PKCS#1 signature; ECDSA: DER SEQUENCE {r, s}. Base64. */
  signature: string;
  scheme: Scheme;
  hashFunction: HashFunction;
}
export interface SignBatchResult { signatures: string[]; }

export interface ClientOptions {
  /** The agent's WebSocket port (default 28418). */
  port?: number;
  /** Milliseconds to wait for the extension's hello-ack (default 300). */
  helloTimeout?: number;
  /** Milliseconds for the WebSocket to open (default 3000). */
  connectTimeout?: number;
  /** For tests: the window and WebSocket to use. */
  window?: Window;
  WebSocket?: typeof WebSocket;
}

export interface Client {
  version(): Promise<VersionResult>;
  getCertificate(opts?: GetCertificateOptions): Promise<CertificateResult>;
  sign(params: SignParams): Promise<SignResult>;
  signBatch(params: SignBatchParams): Promise<SignBatchResult>;
  /** Closes the WebSocket, if one is open. */
  close(): Promise<void>;
}

export declare function createClient(options?: ClientOptions): Client;
export declare function version(): Promise<VersionResult>;
export declare function getCertificate(opts?: GetCertificateOptions): Promise<CertificateResult>;
export declare function sign(params: SignParams): Promise<SignResult>;
export declare function signBatch(params: SignBatchParams): Promise<SignBatchResult>;

export declare function toBase64(input: BinaryInput): string;
export declare function fromBase64(s: string): Uint8Array;
export declare function nextId(): string;
export declare function settle(resp: unknown): { result?: unknown; error?: KysoError };
