// The one error type the codec throws. The proxy answers a ProtocolError by closing the connection (after an
// ErrorResponse with SQLSTATE 08P01 where the peer is a client), so everything that is malformed, oversized or
// otherwise unexpected on the wire must surface as this type and never as a RangeError from Buffer reads.

/** SQLSTATE `protocol_violation`, what PostgreSQL itself reports for a malformed message. */
export const PROTOCOL_VIOLATION = '08P01';

export class ProtocolError extends Error {
  readonly sqlState: string = PROTOCOL_VIOLATION;

  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}
