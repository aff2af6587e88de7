import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';

export type Mailer = {
  send(mail: SendMailOptions): Promise<{ messageId: string; file?: string }>;
  close(): void;
};

/**
 * SMTP through nodemailer when SMTP_URL is set (smtp://user:pass@host:587, smtps://...).
 * Without it (development) every mail is written as an .eml file to MAIL_DIR, readable in
 * any mail program or text editor, so no mail account is needed to see what buyers get.
 */
export function createMailer(o: { smtpUrl?: string; mailDir: string; from: string }): Mailer {
  if (o.smtpUrl) {
    const transport = nodemailer.createTransport(o.smtpUrl, { from: o.from });
    return {
      async send(mail) {
        const info = await transport.sendMail({ from: o.from, ...mail });
        return { messageId: info.messageId };
      },
      close: () => transport.close(),
    };
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(mail) {
      const info = await transport.sendMail({ from: o.from, ...mail });
      await mkdir(o.mailDir, { recursive: true });
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${info.messageId.replace(/[^A-Za-z0-9@.-]/g, '')}.eml`;
      const file = path.join(o.mailDir, name);
      await writeFile(file, info.message as Buffer);
      return { messageId: info.messageId, file };
    },
    close: () => transport.close(),
  };
}
