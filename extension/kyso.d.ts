// Types of kyso.js, the Kyso page library (protocol v1). Published in the
// npm package "kyso"; the classic-script build defines the global `kyso`.

export as namespace kyso;

/** The library's release (the same as Kyso's and the extension's). */
export declare const VERSION: string;
export declare const PROTOCOL: 1;
export declare const DEFAULT_PORT: 28418;
/** The oldest extension release this library works fully with (its own MAJOR.MINOR.0). */
export declare const MIN_EXTENSION_VERSION: string;

/** Protocol v1's error codes, plus kyso.js's NOT_INSTALLED and LOCAL_NETWORK_BLOCKED. */
export type KysoErrorCode =
  | "BAD_REQUEST" | "UNKNOWN_OP" | "ORIGIN_DENIED" | "USER_CANCELLED" | "TIMEOUT"
  | "BUSY" | "RATE_LIMITED" | "NO_TOKEN" | "NO_CERTIFICATE" | "CERTIFICATE_NOT_FOUND"
  | "UNSUPPORTED_ALGORITHM" | "PIN_LOCKED" | "TOKEN_REMOVED" | "TOKEN_ERROR"
  | "BAD_DOCUMENT" | "TIMESTAMP_FAILED" | "NO_DIALOG" | "INTERNAL"
  /** Neither the Kyso extension nor the agent answered. */
  | "NOT_INSTALLED"
  /** The browser kept the page from reaching Kyso (local network access denied, or its prompt closed without Allow). */
  | "LOCAL_NETWORK_BLOCKED";

/** Every error code as a constant: `e.code === kyso.errors.USER_CANCELLED`. */
export declare const errors: { readonly [C in KysoErrorCode]: C };

export declare class KysoError extends Error {
  readonly name: "KysoError";
  /** Branch on this, never on message. */
  readonly code: KysoErrorCode;
  /** For people: Kyso's own text (Vietnamese or English by the computer's language), or kyso.js's by the browser's. */
  readonly message: string;
  /** Technical detail: the PKCS#11 CKR_ name of a TOKEN_ERROR; why kyso.js chose NOT_INSTALLED or LOCAL_NETWORK_BLOCKED. */
  readonly detail?: string;
  constructor(code: KysoErrorCode, message?: string, detail?: string);
}

export type KysoState = "waiting-for-browser-permission" | "connected" | "extension-outdated";
export declare const states: {
  /** The browser asks the person whether this page may reach apps on this device; kyso.js waits for the answer. */
  readonly WAITING_FOR_BROWSER_PERMISSION: "waiting-for-browser-permission";
  /** The WebSocket to the agent is open. */
  readonly CONNECTED: "connected";
  /** The extension is older than MIN_EXTENSION_VERSION (it is still used). */
  readonly EXTENSION_OUTDATED: "extension-outdated";
};
export interface StateInfo {
  /** waiting-for-browser-permission: the permission the browser asks for ("loopback-network", …). */
  permission?: string | null;
  /** connected: the agent's port. */
  port?: number;
  /** extension-outdated: the extension's version and the one required. */
  version?: string;
  required?: string;
  outdated?: boolean;
}
export type StateListener = (state: KysoState, info: StateInfo) => void;

export type HashFunction = "SHA-224" | "SHA-256" | "SHA-384" | "SHA-512" | "SHA3-256" | "SHA3-384" | "SHA3-512";
export type Scheme = "RSASSA-PKCS1-v1_5" | "RSASSA-PSS" | "ECDSA";
/** Standard base64 (with padding) string, or raw bytes. */
export type BinaryInput = string | Uint8Array | ArrayBuffer | ArrayBufferView;
/** A document's bytes: a File or Blob (read by kyso.js), raw bytes, or base64. */
export type DocumentInput = Blob | BinaryInput;

export interface Progress {
  /** Signatures (or documents) done so far. */
  done: number;
  total: number;
}
export interface WithProgress {
  /** Called with interim progress while a long operation signs (a few times a second at most). */
  onProgress?: (progress: Progress) => void;
}

export interface VersionResult {
  version: string;
  protocol: number;
  /** The operations this agent serves. */
  ops?: string[];
}

export interface TokenInfo { label: string; manufacturer: string; model: string; serialNumber: string; }

export interface CertificateResult {
  /** DER, base64. */
  certificate: string;
  /** Hex SHA-256 of the DER: what the signing operations take. */
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

interface SignCommon extends WithProgress {
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

/** The visible stamp of a signed PDF. */
export interface Stamp {
  /** 1-based page, or -1 for the last (default). */
  page?: number;
  /** [x, y, width, height] in PDF points from the bottom-left. */
  rect?: [number, number, number, number];
  /** Default: "Ký bởi: …", "Cơ quan: …", "Ngày ký: …". */
  text?: string;
  /** A PNG or JPEG (a seal or handwritten signature) drawn beside the text. */
  image?: DocumentInput;
}

export interface PdfDocument {
  pdf: DocumentInput;
  /** Shown in the dialog; default: the File's name. */
  fileName?: string;
  reason?: string;
  location?: string;
  contactInfo?: string;
  /** Default: visible, last page, bottom right; null: invisible. */
  stamp?: Stamp | null;
}
interface PdfCommon extends WithProgress {
  certificateId: string;
  /** At most 256 characters, shown in the dialog as supplied by the page (unverified). */
  description?: string;
}
export type SignPdfParams =
  | (PdfCommon & PdfDocument & { documents?: never })
  | (PdfCommon & { documents: PdfDocument[]; pdf?: never });
/** Base64 PDFs, in the order given. */
export type SignPdfResult = { pdf: string } | { documents: { pdf: string }[] };

export type SignCmsParams = SignCommon & { fileName?: string } & (
  | { hash: BinaryInput; hashes?: never }
  | { hashes: BinaryInput[]; hash?: never });
/** Detached CAdES-BES SignedData (DER, base64): cms for hash, cmsList for hashes. */
export type SignCmsResult = { cms: string } | { cmsList: string[] };

export interface XmlDocument {
  /** UTF-8 text, or a File/Blob/bytes holding it. */
  xml: string | Blob | Uint8Array | ArrayBuffer;
  fileName?: string;
  /** "" (default): the whole document; "#Id": the element whose Id or id attribute has that value. */
  reference?: string;
  /** Absolute path of the element that receives <Signature> (default: the root), e.g. "/HDon/DSCKS/NBan". */
  parent?: string;
  /** Add the signing time as a signed SignatureProperty, as e-invoices do. */
  signingTime?: boolean;
}
interface XmlCommon extends WithProgress {
  certificateId: string;
  description?: string;
}
export type SignXmlParams =
  | (XmlCommon & XmlDocument & { documents?: never })
  | (XmlCommon & { documents: XmlDocument[]; xml?: never });
export type SignXmlResult = { xml: string } | { documents: { xml: string }[] };

export type SignPdfFileOptions = PdfCommon & Omit<PdfDocument, "pdf">;
export type SignXmlFileOptions = XmlCommon & Omit<XmlDocument, "xml">;
export type SignCmsFileOptions = Omit<SignCommon, "hashFunction"> & {
  /** The digest kyso.js computes of the file (WebCrypto): SHA-256 (default), SHA-384 or SHA-512. */
  hashFunction?: "SHA-256" | "SHA-384" | "SHA-512";
  fileName?: string;
};

/** What can be known without touching the network. */
export interface Detection {
  /** The Kyso extension in this frame, or null. */
  extension: { version: string; required: string; outdated: boolean } | null;
  /** The browser's permission for this page to reach loopback ("unsupported": the browser has none to query). */
  localNetworkAccess: "granted" | "denied" | "prompt" | "unsupported";
  /** The permission name the browser knows ("loopback-network", …), or null. */
  permission: string | null;
  /** false in an iframe whose permissions policy forbids loopback (it needs allow="loopback-network"). */
  frameAllowed: boolean;
}

export interface ClientOptions {
  /** The agent's WebSocket port (default 28418). */
  port?: number;
  /** Milliseconds to wait for the extension's hello-ack (default 300). */
  helloTimeout?: number;
  /** Milliseconds for the WebSocket to open when the browser is not asking the person (default 3000). */
  connectTimeout?: number;
  /** Milliseconds after which a pending socket counts as waiting for the browser's prompt (default 500). */
  waitingAfter?: number;
  onStateChange?: StateListener;
  /** Language of kyso.js's own messages (default: the browser's). */
  lang?: string;
  /** For tests: the window, navigator and WebSocket to use. */
  window?: Window;
  navigator?: Navigator;
  WebSocket?: typeof WebSocket;
}

export interface Client {
  version(): Promise<VersionResult>;
  getCertificate(opts?: GetCertificateOptions): Promise<CertificateResult>;
  sign(params: SignParams): Promise<SignResult>;
  signBatch(params: SignBatchParams): Promise<SignBatchResult>;
  signPdf(params: PdfCommon & PdfDocument): Promise<{ pdf: string }>;
  signPdf(params: PdfCommon & { documents: PdfDocument[] }): Promise<{ documents: { pdf: string }[] }>;
  signPdf(params: SignPdfParams): Promise<SignPdfResult>;
  signCms(params: SignCommon & { fileName?: string; hash: BinaryInput }): Promise<{ cms: string }>;
  signCms(params: SignCommon & { fileName?: string; hashes: BinaryInput[] }): Promise<{ cmsList: string[] }>;
  signCms(params: SignCmsParams): Promise<SignCmsResult>;
  signXml(params: XmlCommon & XmlDocument): Promise<{ xml: string }>;
  signXml(params: XmlCommon & { documents: XmlDocument[] }): Promise<{ documents: { xml: string }[] }>;
  signXml(params: SignXmlParams): Promise<SignXmlResult>;
  /** signPdf of one file; the signed PDF as a Blob (application/pdf). */
  signPdfFile(file: DocumentInput, opts: SignPdfFileOptions): Promise<Blob>;
  /** signXml of one file; the signed XML as a Blob (application/xml). */
  signXmlFile(file: string | Blob | Uint8Array | ArrayBuffer, opts: SignXmlFileOptions): Promise<Blob>;
  /** signCms of the file's digest; the detached signature as a Blob (application/pkcs7-signature, a .p7s). */
  signCmsFile(file: Blob | Uint8Array | ArrayBuffer, opts: SignCmsFileOptions): Promise<Blob>;
  detect(): Promise<Detection>;
  /** Returns a function that removes the listener. */
  onStateChange(fn: StateListener): () => void;
  /** Closes the WebSocket, if one is open. */
  close(): Promise<void>;
}

export declare function createClient(options?: ClientOptions): Client;
export declare const version: Client["version"];
export declare const getCertificate: Client["getCertificate"];
export declare const sign: Client["sign"];
export declare const signBatch: Client["signBatch"];
export declare const signPdf: Client["signPdf"];
export declare const signCms: Client["signCms"];
export declare const signXml: Client["signXml"];
export declare const signPdfFile: Client["signPdfFile"];
export declare const signXmlFile: Client["signXmlFile"];
export declare const signCmsFile: Client["signCmsFile"];
export declare const detect: Client["detect"];
export declare const onStateChange: Client["onStateChange"];

/** "vi" for a Vietnamese locale, else "en"; default: the browser's language. */
export declare function language(lang?: string): "vi" | "en";
/** The person-facing text of an error code (from Kyso's message table). */
export declare function message(code: KysoErrorCode, lang?: string): string;
export declare function toBase64(input: BinaryInput): string;
export declare function fromBase64(s: string): Uint8Array;
/** Base64 of a File, Blob, ArrayBuffer or bytes (a base64 string is checked and returned). */
export declare function readAsBase64(input: DocumentInput): Promise<string>;
/** A Blob of a result's base64, e.g. base64ToBlob(r.pdf, "application/pdf"). */
export declare function base64ToBlob(b64: string, type?: string): Blob;
export declare function compareVersions(a: string, b: string): -1 | 0 | 1;
export declare const LOOPBACK_PERMISSIONS: readonly string[];
export declare function nextId(): string;
export declare function settle(resp: unknown, lang?: string): { result?: unknown; error?: KysoError };
