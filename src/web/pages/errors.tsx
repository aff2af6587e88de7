import type { FC } from 'hono/jsx';
import type { ErrorAnswer } from '../../http/error-boundary';
import { Layout, type PageEnv } from './layout';

/** The HTML rendering of the contract's error shape: plain language, never a stack trace. */
export const ErrorPage: FC<{ env: PageEnv; answer: ErrorAnswer }> = ({ env, answer }) => {
  const { code, message } = answer.body.error;
  if (answer.status === 404) {
    const what = message.replace(/ not found$/, '');
    return (
      <Layout env={env} title="Not found">
        <h1>Not found</h1>
        <p>We couldn't find that {what}. It may have been removed, or the link may be mistyped.</p>
        <p>
          <a href="/">See the events on sale</a>
        </p>
      </Layout>
    );
  }
  if (answer.status === 503) {
    return (
      <Layout env={env} title="Briefly unavailable">
        <h1>Briefly unavailable</h1>
        <p>The box office can't reach its data right now. Please try again in a few seconds.</p>
      </Layout>
    );
  }
  return (
    <Layout env={env} title="Something went wrong">
      <h1>Something went wrong</h1>
      <p>{answer.status >= 500 ? 'The box office hit a problem on its side. Please try again shortly.' : message}</p>
      <p class="muted">Error code: {code}</p>
    </Layout>
  );
};
