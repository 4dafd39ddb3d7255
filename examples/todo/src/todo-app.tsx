/** The to-do list itself: everything it shows comes from the SDK's React hooks. */
import { useState, type FormEvent } from 'react';
import type { App, SyncedDatabase } from '@graphql-sync-gateway/client';
import { useConnectionState, useQuery, useSessionState } from '@graphql-sync-gateway/client/react';

export interface Todo {
  _id: string;
  ownerId: string;
  text: string;
  done: boolean;
  createdAt: string;
}

interface Props {
  realm: SyncedDatabase<{ todos: Todo }>;
  app: App;
  user: string;
  slot: string;
}

export function TodoApp({ realm, app, user, slot }: Props) {
  const todos = useQuery(realm, 'todos', {}, { sort: { createdAt: 1, _id: 1 } });
  const connection = useConnectionState(app);
  const state = useSessionState(realm);
  const [text, setText] = useState('');

  const add = (event: FormEvent) => {
    event.preventDefault();
    if (!text.trim()) return;
    const todo: Todo = {
      _id: crypto.randomUUID(),
      ownerId: user,
      text: text.trim(),
      done: false,
      createdAt: new Date().toISOString(),
    };
    void realm.write((tx) => tx.insert('todos', todo));
    setText('');
  };

  return (
    <main>
      <h1>To-do</h1>
      <p className="status" data-testid="status">
        {connection} · {state} · {slot}
      </p>
      <form onSubmit={add}>
        <input
          type="text"
          data-testid="new"
          placeholder="What needs doing?"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit">Add</button>
      </form>
      <ul>
        {todos.map((todo) => (
          <li key={todo._id} className={todo.done ? 'done' : ''} data-testid="todo">
            <input
              type="checkbox"
              checked={todo.done}
              onChange={() =>
                void realm.write((tx) => tx.update('todos', todo._id, { done: !todo.done }))
              }
            />
            <span>{todo.text}</span>
            <button onClick={() => void realm.write((tx) => tx.delete('todos', todo._id))}>
              ✕
            </button>
          </li>
        ))}
      </ul>
      <button
        onClick={() =>
          void (state === 'ACTIVE' ? realm.syncSession.pause() : realm.syncSession.resume())
        }
      >
        {state === 'ACTIVE' ? 'Pause sync' : 'Resume sync'}
      </button>
    </main>
  );
}
