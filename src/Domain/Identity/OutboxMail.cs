using FentaWeb.Domain.Common;
using Npgsql;

namespace FentaWeb.Domain.Identity;

public enum OutboxMailKind
{
    /// <summary>The link of an <see cref="EmailToken"/>: address verification or password reset.</summary>
    EmailToken,
    /// <summary>The link of an <see cref="OrgInvitation"/>.</summary>
    Invitation,
    /// <summary>What a password reset revoked (subject: the user; composed from the credentials revoked at their last reset).</summary>
    CredentialsRevoked,
    /// <summary>Someone tried to register the user's address (subject: the user).</summary>
    RegistrationAttempt,
}

/// <summary>
/// A mail waiting to go out, saved with what it mails about, so it survives the instance that queued it and an SMTP server
/// that is down. It names its subject, never the mail: the link's secret is minted when the mail is sent, so no row holds
/// a working link. Any instance sends it (claimed with a lease); a failure is retried later, a link no longer wanted is dropped.
/// </summary>
public sealed class OutboxMail
{
    /// <summary>How long a sender holds a mail it took: if it stops mid-send, another takes the mail after this.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    /// <summary>Retries wait 10 s, 20 s, 40 s … up to 30 min; after this many attempts (about 3 hours) the mail is dropped.</summary>
    public const int MaxAttempts = 12;

    public required string Id { get; init; }
    public OutboxMailKind Kind { get; init; }
    public required string SubjectId { get; init; }
    public int Attempts { get; init; }
    public DateTimeOffset DueAt { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    public static OutboxMail Of(EmailToken token) => New(OutboxMailKind.EmailToken, token.Id, token.CreatedAt);

    public static OutboxMail Of(OrgInvitation invitation) => New(OutboxMailKind.Invitation, invitation.Id, invitation.CreatedAt);

    /// <summary>A notice to the account's owner about the account itself (no link, so nothing to mint when it is sent).</summary>
    public static OutboxMail Notice(OutboxMailKind kind, User user, DateTimeOffset now) => New(kind, user.Id, now);

    private static OutboxMail New(OutboxMailKind kind, string subjectId, DateTimeOffset now) =>
        new() { Id = Ids.New("mail"), Kind = kind, SubjectId = subjectId, DueAt = now, CreatedAt = now };

    /// <summary>The wait before trying again after attempt number <see cref="Attempts"/> failed.</summary>
    public TimeSpan RetryDelay => TimeSpan.FromSeconds(Math.Min(10 * Math.Pow(2, Attempts - 1), 1800));

    public bool IsLastAttempt => Attempts >= MaxAttempts;

    public static string ToWire(OutboxMailKind kind) => kind switch
    {
        OutboxMailKind.EmailToken => "email_token",
        OutboxMailKind.Invitation => "invitation",
        OutboxMailKind.CredentialsRevoked => "credentials_revoked",
        _ => "registration_attempt",
    };

    public static OutboxMailKind Parse(string wire) => wire switch
    {
        "email_token" => OutboxMailKind.EmailToken,
        "invitation" => OutboxMailKind.Invitation,
        "credentials_revoked" => OutboxMailKind.CredentialsRevoked,
        _ => OutboxMailKind.RegistrationAttempt,
    };
}

/// <summary>The outbox's statements, shared by every instance of the API.</summary>
public static class MailOutbox
{
    /// <summary>
    /// Takes up to <paramref name="limit"/> due mails for this sender: each counts an attempt and is leased (due again only
    /// after <see cref="OutboxMail.Lease"/>); SKIP LOCKED lets concurrent senders take different mails.
    /// </summary>
    public static async Task<IReadOnlyList<OutboxMail>> ClaimDueAsync(NpgsqlDataSource db, DateTimeOffset now, int limit, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            UPDATE mail_outbox SET attempts = attempts + 1, due_at = $2
            WHERE id IN (SELECT id FROM mail_outbox WHERE due_at <= $1 ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED)
            RETURNING id, kind, subject_id, attempts
            """);
        cmd.Parameters.Add(new() { Value = now });
        cmd.Parameters.Add(new() { Value = now + OutboxMail.Lease });
        cmd.Parameters.Add(new() { Value = limit });
        var claimed = new List<OutboxMail>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            claimed.Add(new OutboxMail
            {
                Id = reader.GetString(0), Kind = OutboxMail.Parse(reader.GetString(1)), SubjectId = reader.GetString(2), Attempts = reader.GetInt32(3),
            });
        return claimed;
    }

    /// <summary>Removes a mail that was sent, or that is no longer wanted.</summary>
    public static async Task RemoveAsync(NpgsqlDataSource db, string id, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("DELETE FROM mail_outbox WHERE id = $1");
        cmd.Parameters.Add(new() { Value = id });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Makes a mail whose send failed due again after its retry delay, keeping why it failed.</summary>
    public static async Task RetryLaterAsync(NpgsqlDataSource db, OutboxMail mail, DateTimeOffset now, string error, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("UPDATE mail_outbox SET due_at = $2, last_error = $3 WHERE id = $1");
        cmd.Parameters.Add(new() { Value = mail.Id });
        cmd.Parameters.Add(new() { Value = now + mail.RetryDelay });
        cmd.Parameters.Add(new() { Value = error });
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
