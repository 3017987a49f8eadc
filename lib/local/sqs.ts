import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type JsonProtocolService, ServiceError } from './service';

/**
 * A minimal SQS (AWS JSON protocol, `AmazonSQS.*`, what SDK v3 speaks) for the Lambda on-failure
 * destination and for users reading it. Hand-written because no npm package emulates SQS without
 * Docker or a JVM; it implements only what the pipeline and a user inspecting the DLQ need.
 * Queues persist to one JSON file (rewritten atomically on each change: DLQ traffic is tiny).
 */
export const SQS_ACCOUNT = '000000000000';

interface Message {
  id: string;
  body: string;
  md5: string;
  sentAt: number;
  receiveCount: number;
  visibleAt: number;
  receipt?: string;
}

interface Queue {
  name: string;
  attributes: Record<string, string>;
  messages: Message[];
}

export interface SqsOptions {
  /** Base URL of the endpoint queue URLs point at (the SDK sends queue calls to the queue URL's host). */
  readonly endpoint: () => string;
  readonly region: string;
  /** JSON file to persist to; undefined keeps queues in memory. */
  readonly file?: string;
}

export class LocalSqs implements JsonProtocolService {
  readonly targetPrefixes = ['AmazonSQS'] as const;
  private readonly queues = new Map<string, Queue>();

  constructor(private readonly options: SqsOptions) {
    if (options.file && existsSync(options.file)) {
      const saved = JSON.parse(readFileSync(options.file, 'utf8')) as Queue[];
      for (const q of saved) this.queues.set(q.name, q);
    }
  }

  queueUrl(name: string): string {
    return `${this.options.endpoint()}/${SQS_ACCOUNT}/${name}`;
  }

  queueArn(name: string): string {
    return `arn:aws:sqs:${this.options.region}:${SQS_ACCOUNT}:${name}`;
  }

  createQueue(name: string, attributes: Record<string, string> = {}): string {
    if (!/^[A-Za-z0-9_-]{1,80}(\.fifo)?$/.test(name)) {
      throw new ServiceError('InvalidParameterValue', `Invalid queue name ${name}`);
    }
    if (!this.queues.has(name)) {
      this.queues.set(name, { name, attributes: { VisibilityTimeout: '30', ...attributes }, messages: [] });
      this.persist();
    }
    return this.queueUrl(name);
  }

  /** Sends a message; returns its id (used by the event source mapping for failure records). */
  send(name: string, body: string): string {
    const q = this.queue(name);
    const msg: Message = { id: randomUUID(), body, md5: md5(body), sentAt: Date.now(), receiveCount: 0, visibleAt: 0 };
    q.messages.push(msg);
    this.persist();
    return msg.id;
  }

  depth(name: string): number {
    return this.queues.get(name)?.messages.length ?? 0;
  }

  /** Message bodies currently in the queue, without receiving them (for tests and summaries). */
  peek(name: string): string[] {
    return (this.queues.get(name)?.messages ?? []).map((m) => m.body);
  }

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'CreateQueue':
        return { QueueUrl: this.createQueue(String(input.QueueName), input.Attributes as Record<string, string>) };
      case 'GetQueueUrl':
        return { QueueUrl: this.queueUrl(this.queue(String(input.QueueName)).name) };
      case 'ListQueues': {
        const prefix = String(input.QueueNamePrefix ?? '');
        return { QueueUrls: [...this.queues.keys()].filter((n) => n.startsWith(prefix)).map((n) => this.queueUrl(n)) };
      }
      case 'DeleteQueue':
        this.queues.delete(this.nameFromUrl(input.QueueUrl));
        this.persist();
        return {};
      case 'PurgeQueue':
        this.queue(this.nameFromUrl(input.QueueUrl)).messages = [];
        this.persist();
        return {};
      case 'SendMessage': {
        const body = String(input.MessageBody ?? '');
        const id = this.send(this.nameFromUrl(input.QueueUrl), body);
        return { MessageId: id, MD5OfMessageBody: md5(body) };
      }
      case 'ReceiveMessage':
        return this.receive(input);
      case 'DeleteMessage': {
        const q = this.queue(this.nameFromUrl(input.QueueUrl));
        const before = q.messages.length;
        q.messages = q.messages.filter((m) => m.receipt !== input.ReceiptHandle);
        if (q.messages.length === before) {
          throw new ServiceError('ReceiptHandleIsInvalid', `The receipt handle "${input.ReceiptHandle}" is not valid.`);
        }
        this.persist();
        return {};
      }
      case 'GetQueueAttributes':
        return { Attributes: this.attributes(this.nameFromUrl(input.QueueUrl)) };
      default:
        throw new ServiceError('UnsupportedOperation', `The embedded SQS does not implement ${operation}.`);
    }
  }

  async close(): Promise<void> {
    this.persist();
  }

  private async receive(input: Record<string, unknown>): Promise<unknown> {
    const name = this.nameFromUrl(input.QueueUrl);
    const max = Math.min(10, Math.max(1, Number(input.MaxNumberOfMessages ?? 1)));
    const waitUntil = Date.now() + Math.min(20, Number(input.WaitTimeSeconds ?? 0)) * 1000;
    const q = this.queue(name);
    const visibility = Number(input.VisibilityTimeout ?? q.attributes.VisibilityTimeout ?? 30) * 1000;
    for (;;) {
      const now = Date.now();
      const ready = q.messages.filter((m) => m.visibleAt <= now).slice(0, max);
      if (ready.length > 0 || now >= waitUntil) {
        for (const m of ready) {
          m.receiveCount++;
          m.visibleAt = now + visibility;
          m.receipt = randomUUID();
        }
        if (ready.length > 0) this.persist();
        return {
          Messages: ready.map((m) => ({
            MessageId: m.id,
            ReceiptHandle: m.receipt,
            MD5OfBody: m.md5,
            Body: m.body,
            Attributes: { ApproximateReceiveCount: String(m.receiveCount), SentTimestamp: String(m.sentAt) },
          })),
        };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private attributes(name: string): Record<string, string> {
    const q = this.queue(name);
    const now = Date.now();
    const visible = q.messages.filter((m) => m.visibleAt <= now).length;
    return {
      ...q.attributes,
      QueueArn: this.queueArn(name),
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(q.messages.length - visible),
      ApproximateNumberOfMessagesDelayed: '0',
    };
  }

  private queue(name: string): Queue {
    const q = this.queues.get(name);
    if (!q) throw new ServiceError('AWS.SimpleQueueService.NonExistentQueue', `The queue ${name} does not exist.`);
    return q;
  }

  private nameFromUrl(url: unknown): string {
    const name = String(url ?? '')
      .split('/')
      .pop();
    if (!name) throw new ServiceError('InvalidAddress', `Invalid QueueUrl ${String(url)}`);
    return name;
  }

  private persist(): void {
    const file = this.options.file;
    if (!file) return;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify([...this.queues.values()]));
    renameSync(`${file}.tmp`, file);
  }
}

function md5(s: string): string {
  return createHash('md5').update(s, 'utf8').digest('hex');
}
