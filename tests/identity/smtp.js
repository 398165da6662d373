// A real SMTP server for the password-reset tests (tests/password_reset.rs):
// accepts every message on 127.0.0.1 (port: argv[2], 0 for any), prints
// `listening PORT`, then one JSON line per message received:
// {"from": ..., "to": [...], "subject": ..., "text": ...}.
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData(stream, session, callback) {
    simpleParser(stream).then((mail) => {
      const received = {
        from: session.envelope.mailFrom.address,
        to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
        subject: mail.subject,
        text: mail.text,
      };
      process.stdout.write(JSON.stringify(received) + '\n');
      callback();
    }, callback);
  },
});
server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.server.address().port}\n`);
});
