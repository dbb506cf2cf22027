import { hashPassword } from '../security/password.js';

/**
 * `amq-sim hash-password`: the form of a password to write in a config
 * file, users.properties or AMQ_SIM_ADMIN_PASSWORD instead of the password
 * itself. Read from standard input (one line), so that it is in no shell
 * history.
 */
export async function runHashPassword(): Promise<void> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  const password = text.replace(/\r?\n$/, '');
  if (password === '') {
    process.stderr.write('amq-sim hash-password: give the password on standard input, e.g. `printf %s "$PASSWORD" | amq-sim hash-password`\n');
    process.exitCode = 2;
    return;
  }
  process.stdout.write(hashPassword(password) + '\n');
}
