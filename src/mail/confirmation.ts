import type { SendMailOptions } from 'nodemailer';
import type { Ticket } from '../tickets/repository';

export type ConfirmationInput = {
  to: string;
  bookingCode: string;
  eventName: string;
  startsAt: Date;
  tickets: { ticket: Ticket; code: string; qrSvg: string }[];
};

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The confirmation mail: every ticket's code in the text, its QR code inline and attached. */
export function confirmationMail(c: ConfirmationInput): SendMailOptions {
  const when = c.startsAt.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  const label = (t: Ticket) => (t.seat ? `seat ${t.seat}` : `${t.zone} (general admission) #${t.unit}`);
  const text = [
    `Your booking ${c.bookingCode} for ${c.eventName} (${when}) is confirmed.`,
    '',
    `${c.tickets.length} ticket(s); show the QR code (or read out the code) at the door:`,
    '',
    ...c.tickets.map((t) => `- ${label(t.ticket)}: ${t.code}`),
  ].join('\n');
  const html = `<p>Your booking <strong>${escape(c.bookingCode)}</strong> for ${escape(c.eventName)} (${escape(when)}) is confirmed.</p>
${c.tickets
  .map(
    (t, i) => `<h3>${escape(label(t.ticket))}</h3><p><img src="cid:ticket-${i + 1}" alt="QR code" width="220" height="220"></p><p><code>${escape(t.code)}</code></p>`,
  )
  .join('\n')}`;
  return {
    to: c.to,
    subject: `Your tickets for ${c.eventName} (booking ${c.bookingCode})`,
    text,
    html,
    attachments: c.tickets.map((t, i) => ({
      filename: `ticket-${i + 1}.svg`,
      content: t.qrSvg,
      contentType: 'image/svg+xml',
      cid: `ticket-${i + 1}`,
    })),
  };
}

/** Without an address from the token at checkout (payments.email): a subject that is an address is used, others get MAIL_USER_DOMAIN. */
export function recipientFor(userId: string, domain: string): string {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(userId) ? userId : `${userId.replace(/[^A-Za-z0-9._-]/g, '_')}@${domain}`;
}
