/**
 * Every error @samsa/log throws is a SamsaError with a stable, greppable `code`.
 * `retriable` is true where the same call may succeed later (a full disk that was cleared,
 * a lock that was released); false where the input or the data itself is wrong.
 */
export class SamsaError extends Error {
  readonly code: string
  readonly retriable: boolean

  constructor(code: string, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.retriable = options.retriable ?? false
  }
}

/** A caller passed something that can never work: a negative offset, an empty append, a bad option. */
export class InvalidArgumentError extends SamsaError {
  constructor(message: string, code = 'SAMSA_INVALID_ARGUMENT') {
    super(code, message)
  }
}

/** A record, or the batch that holds it, is bigger than the log accepts. */
export class RecordTooLargeError extends SamsaError {
  constructor(readonly size: number, readonly limit: number, what = 'record') {
    super(
      'SAMSA_RECORD_TOO_LARGE',
      `${what} of ${size} bytes exceeds the limit of ${limit} bytes; split it or raise maxRecordBytes`,
    )
  }
}

/** An offset below the log start or above the log end. */
export class OffsetOutOfRangeError extends SamsaError {
  constructor(
    readonly offset: number,
    readonly logStartOffset: number,
    readonly logEndOffset: number,
  ) {
    super(
      'SAMSA_OFFSET_OUT_OF_RANGE',
      `offset ${offset} is outside the log [${logStartOffset}, ${logEndOffset}]; ` +
        `read from logStartOffset or logEndOffset instead`,
    )
  }
}

/** Bytes that do not form a valid RecordBatch v2: wrong magic, bad CRC, impossible sizes. */
export class CorruptBatchError extends SamsaError {
  constructor(
    message: string,
    readonly file?: string,
    readonly position?: number,
  ) {
    super(
      'SAMSA_CORRUPT_BATCH',
      file === undefined ? message : `${message} in ${file} at byte ${position ?? 0}`,
    )
  }
}

/** Damage in a part of the log that was already fsynced: never silently dropped. */
export class CorruptLogError extends SamsaError {
  constructor(
    message: string,
    readonly file: string,
    readonly position: number,
  ) {
    super(
      'SAMSA_CORRUPT_LOG',
      `${message} in ${file} at byte ${position}; open with { repair: true } to truncate the log there`,
    )
  }
}

export class UnsupportedCompressionError extends SamsaError {
  constructor(readonly codec: string) {
    super(
      'SAMSA_UNSUPPORTED_COMPRESSION',
      `batches compressed with ${codec} cannot be decoded; Samsa reads uncompressed and gzip batches, ` +
        `so configure the producer with compression none or gzip`,
    )
  }
}

export class LogClosedError extends SamsaError {
  constructor(dir: string) {
    super('SAMSA_LOG_CLOSED', `the log at ${dir} is closed; open it again with Log.open()`)
  }
}

export class ReadOnlyError extends SamsaError {
  constructor(dir: string) {
    super('SAMSA_READ_ONLY', `the log at ${dir} was opened read-only; open it without { readOnly: true } to write`)
  }
}

/** Another live process holds the write lock of this directory. */
export class LockedError extends SamsaError {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      'SAMSA_LOCKED',
      `${dir} is locked for writing by process ${pid}; stop that process or open with { readOnly: true }`,
      { retriable: true },
    )
  }
}

/** The operating system refused a write or a sync (ENOSPC, EIO, EFBIG ...). Nothing was acknowledged. */
export class StorageError extends SamsaError {
  readonly syscallCode: string | undefined

  constructor(message: string, cause: unknown) {
    const syscallCode = (cause as NodeJS.ErrnoException | undefined)?.code
    super('SAMSA_STORAGE_ERROR', `${message}: ${(cause as Error)?.message ?? String(cause)}`, {
      retriable: true,
      cause,
    })
    this.syscallCode = syscallCode
  }
}
