// Message type bytes and protocol constants of PostgreSQL's frontend/backend protocol v3
// (PostgreSQL docs, "Message Formats"). Type bytes are kept as numbers: the framer hands out the raw byte and a
// `switch` on small integers is the cheapest dispatch on the hot path.

const code = (c: string): number => c.charCodeAt(0);

/** Type bytes of messages a frontend (client) sends. */
export const FrontendType = {
  Bind: code('B'),
  Close: code('C'),
  CopyData: code('d'),
  CopyDone: code('c'),
  CopyFail: code('f'),
  Describe: code('D'),
  Execute: code('E'),
  Flush: code('H'),
  FunctionCall: code('F'),
  Parse: code('P'),
  /** PasswordMessage, SASLInitialResponse, SASLResponse and GSSResponse share this byte; context decides. */
  AuthResponse: code('p'),
  Query: code('Q'),
  Sync: code('S'),
  Terminate: code('X'),
} as const;

/** Type bytes of messages a backend (server) sends. */
export const BackendType = {
  Authentication: code('R'),
  BackendKeyData: code('K'),
  BindComplete: code('2'),
  CloseComplete: code('3'),
  CommandComplete: code('C'),
  CopyBothResponse: code('W'),
  CopyData: code('d'),
  CopyDone: code('c'),
  CopyInResponse: code('G'),
  CopyOutResponse: code('H'),
  DataRow: code('D'),
  EmptyQueryResponse: code('I'),
  ErrorResponse: code('E'),
  FunctionCallResponse: code('V'),
  NegotiateProtocolVersion: code('v'),
  NoData: code('n'),
  NoticeResponse: code('N'),
  NotificationResponse: code('A'),
  ParameterDescription: code('t'),
  ParameterStatus: code('S'),
  ParseComplete: code('1'),
  PortalSuspended: code('s'),
  ReadyForQuery: code('Z'),
  RowDescription: code('T'),
} as const;

/** Request codes of the untyped messages of the startup phase (the Int32 after the length). */
export const StartupCode = {
  /** Protocol 3.0: major 3 in the high 16 bits, minor 0. */
  Protocol30: 196608,
  /** Protocol 3.2 (PostgreSQL 18): variable-length cancel keys. */
  Protocol32: 196610,
  SSLRequest: 80877103,
  GSSENCRequest: 80877104,
  CancelRequest: 80877102,
} as const;

/** Authentication request codes carried by an `R` message. */
export const AuthCode = {
  Ok: 0,
  KerberosV5: 2,
  CleartextPassword: 3,
  MD5Password: 5,
  GSS: 7,
  GSSContinue: 8,
  SSPI: 9,
  SASL: 10,
  SASLContinue: 11,
  SASLFinal: 12,
} as const;

/** Default size limits, compared with a message's length field (which counts itself but not the type byte). */
export const DEFAULT_LIMITS = {
  /** What a client may send in one message once started (PostgreSQL allows up to 1 GiB; a proxy need not). */
  frontend: 64 * 1024 * 1024,
  /** What a server may send in one message: a DataRow can legitimately be large. */
  backend: 1024 * 1024 * 1024,
  /** Startup-phase packets; PostgreSQL's own limit (MAX_STARTUP_PACKET_LENGTH) is 10000. */
  startup: 10_000,
  /** Frontend messages that are always tiny (Sync, Execute, …); PostgreSQL's PQ_SMALL_MESSAGE_LIMIT. */
  smallFrontend: 10_000,
  /** Password/SASL responses; PostgreSQL's PG_MAX_AUTH_TOKEN_LENGTH. */
  authResponse: 65_535,
} as const;

/** Cancel keys: 4 bytes in protocol 3.0, 4 to 256 bytes from protocol 3.2 on. */
export const CANCEL_KEY_MIN = 4;
export const CANCEL_KEY_MAX = 256;

/** Transaction status byte of ReadyForQuery: idle, in a transaction block, in a failed transaction block. */
export type TransactionStatus = 'I' | 'T' | 'E';

/** Format code of a parameter or column: 0 text, 1 binary. */
export type FormatCode = 0 | 1;
