import { describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { SecretDialog } from './SecretDialog';

describe('SecretDialog', () => {
  it('shows the secret once with a copy button, and closes', async () => {
    const user = userEvent.setup();
    const writeText = vi.spyOn(navigator.clipboard, 'writeText').mockResolvedValue();
    const onClose = vi.fn();
    render(<SecretDialog title="Your new API key" secret="fw_live_abc123" what="the API key" onClose={onClose} />);
    expect(screen.getByRole('dialog', { name: 'Your new API key' })).toBeInTheDocument();
    expect(screen.getByLabelText('the API key')).toHaveValue('fw_live_abc123');
    await user.click(screen.getByRole('button', { name: 'Copy secret' }));
    expect(writeText).toHaveBeenCalledWith('fw_live_abc123');
    expect(await screen.findByRole('button', { name: 'Copied' })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'I have stored it' }));
    expect(onClose).toHaveBeenCalled();
  });
});
