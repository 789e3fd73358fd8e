using System.Text.Json;
using Azure.Core;
using Azure.Identity;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Audit;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Jobs;
using FentaWeb.Domain.Publishing;
using FentaWeb.Domain.Scheduling;
using FentaWeb.Domain.Templates;
using FentaWeb.Domain.Webhooks;
using FentaWeb.Domain.Workflows;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace FentaWeb.Domain.Persistence;

/// <summary>
/// EF Core over the tables the SQL migrations create. The schema is owned by the migrations, not by EF:
/// this model only maps names (snake_case) and JSON columns.
/// </summary>
public sealed class FentaDb(DbContextOptions<FentaDb> options) : DbContext(options)
{
    public DbSet<User> Users => Set<User>();
    public DbSet<Org> Orgs => Set<Org>();
    public DbSet<OrgMember> OrgMembers => Set<OrgMember>();
    public DbSet<OrgInvitation> OrgInvitations => Set<OrgInvitation>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<RefreshToken> RefreshTokens => Set<RefreshToken>();
    public DbSet<EmailToken> EmailTokens => Set<EmailToken>();
    public DbSet<OutboxMail> MailOutbox => Set<OutboxMail>();
    public DbSet<Template> Templates => Set<Template>();
    public DbSet<Workflow> Workflows => Set<Workflow>();
    public DbSet<WorkflowVersion> WorkflowVersions => Set<WorkflowVersion>();
    public DbSet<AuditLog> AuditLogs => Set<AuditLog>();
    public DbSet<Job> Jobs => Set<Job>();
    public DbSet<NodeRun> NodeRuns => Set<NodeRun>();
    public DbSet<JobLog> JobLogs => Set<JobLog>();
    public DbSet<Asset> Assets => Set<Asset>();
    public DbSet<Webhook> Webhooks => Set<Webhook>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();
    public DbSet<Schedule> Schedules => Set<Schedule>();
    public DbSet<Integration> Integrations => Set<Integration>();
    public DbSet<Publication> Publications => Set<Publication>();
    public DbSet<PublicationTarget> PublicationTargets => Set<PublicationTarget>();

    /// <summary>A data source whose JSON columns use the product's JSON shape.</summary>
    /// <summary>The scope of Azure Database for PostgreSQL's Microsoft Entra tokens.</summary>
    public const string EntraScope = "https://ossrdbms-aad.database.windows.net/.default";

    /// <summary>
    /// FENTA_DB, signed in as FENTA_DB_AUTH says: <c>password</c> (in the connection string; the default) or <c>entra</c>
    /// (a Microsoft Entra token of the managed identity named by AZURE_CLIENT_ID; no password anywhere).
    /// </summary>
    public static NpgsqlDataSource FromSettings(Func<string, string?> setting) => CreateDataSource(
        setting("FENTA_DB") is { Length: > 0 } database ? database
            : throw new InvalidOperationException("FENTA_DB is not set: give an Npgsql connection string (./run.sh sets one up)."),
        setting("FENTA_DB_AUTH"));

    public static NpgsqlDataSource CreateDataSource(string connectionString, string? authentication) => authentication switch
    {
        null or "" or "password" => CreateDataSource(connectionString),
        "entra" => CreateDataSource(connectionString, new DefaultAzureCredential()),
        var other => throw new InvalidOperationException($"FENTA_DB_AUTH must be 'password' or 'entra', not '{other}'."),
    };

    public static NpgsqlDataSource CreateDataSource(string connectionString, TokenCredential? entra = null)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        // The engine runs the same few statements thousands of times: prepare them once per connection
        // instead of planning the larger CTEs on every call.
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0) builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
        // Entra tokens live about an hour: new connections take a token refreshed every half hour (retried after 5 s on failure).
        if (entra is not null)
            builder.UsePeriodicPasswordProvider(async (_, ct) => (await entra.GetTokenAsync(new TokenRequestContext([EntraScope]), ct)).Token,
                TimeSpan.FromMinutes(30), TimeSpan.FromSeconds(5));
        return builder.ConfigureJsonOptions(FentaJson.Options).EnableDynamicJson().Build();
    }

    protected override void OnModelCreating(ModelBuilder model)
    {
        var role = new Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<OrgRole, string>(
            r => r.ToWire(), s => Enum.Parse<OrgRole>(s, true));

        model.Entity<User>().ToTable("users");
        model.Entity<Org>().ToTable("orgs");
        model.Entity<OrgMember>(e =>
        {
            e.ToTable("org_members");
            e.Property(m => m.Role).HasConversion(role);
            e.HasOne(m => m.User).WithMany().HasForeignKey(m => m.UserId);
        });
        model.Entity<OrgInvitation>(e =>
        {
            e.ToTable("org_invitations");
            e.Property(m => m.Role).HasConversion(role);
        });
        model.Entity<ApiKey>().ToTable("api_keys");
        model.Entity<RefreshToken>().ToTable("refresh_tokens");
        model.Entity<EmailToken>(e =>
        {
            e.ToTable("email_tokens");
            e.Property(t => t.Purpose).HasConversion(p => FentaWeb.Domain.Identity.EmailTokens.ToWire(p), s => FentaWeb.Domain.Identity.EmailTokens.Parse(s));
        });
        model.Entity<OutboxMail>(e =>
        {
            e.ToTable("mail_outbox");
            e.Property(m => m.Kind).HasConversion(k => OutboxMail.ToWire(k), s => OutboxMail.Parse(s));
        });
        model.Entity<Template>(e =>
        {
            e.ToTable("templates");
            e.Property(t => t.Spec).HasColumnType("jsonb");
        });
        model.Entity<Workflow>(e =>
        {
            e.ToTable("workflows");
            e.Property(w => w.Graph).HasColumnType("jsonb");
            e.Property(w => w.Variables).HasColumnType("jsonb");
        });
        model.Entity<WorkflowVersion>(e =>
        {
            e.ToTable("workflow_versions");
            e.Property(w => w.Graph).HasColumnType("jsonb");
            e.Property(w => w.Variables).HasColumnType("jsonb");
        });
        model.Entity<AuditLog>(e =>
        {
            e.ToTable("audit_logs");
            e.Property(a => a.Changes).HasColumnType("jsonb");
        });

        model.Entity<Job>(e =>
        {
            e.ToTable("jobs");
            e.Property(j => j.Config).HasColumnType("jsonb");
            e.Property(j => j.Result).HasColumnType("jsonb");
            e.Property(j => j.Error).HasColumnType("jsonb");
            e.Property(j => j.Budget).HasColumnType("jsonb");
            e.Property(j => j.Request).HasColumnType("jsonb");
            // The column keeps its text (and its CHECK constraint); filters on Status compare that text.
            e.Property(j => j.Status).HasConversion(s => s.ToWire(), s => JobStatuses.Parse(s));
        });
        model.Entity<NodeRun>(e =>
        {
            e.ToTable("node_runs");
            e.HasKey(n => new { n.JobId, n.NodeId, n.ItemIndex });
            e.Property(n => n.Output).HasColumnType("jsonb");
            e.Property(n => n.Error).HasColumnType("jsonb");
        });
        model.Entity<JobLog>(e =>
        {
            e.ToTable("job_logs");
            e.Property(l => l.Data).HasColumnType("jsonb");
        });

        model.Entity<Asset>(e =>
        {
            e.ToTable("assets");
            e.Property(a => a.Metadata).HasColumnType("jsonb");
        });

        model.Entity<Webhook>().ToTable("webhooks");
        model.Entity<WebhookDelivery>(e =>
        {
            e.ToTable("webhook_deliveries");
            e.Property(d => d.Payload).HasColumnType("jsonb");
        });

        model.Entity<Schedule>(e =>
        {
            e.ToTable("schedules");
            e.Property(x => x.Variables).HasColumnType("jsonb");
            e.Property(x => x.Budget).HasColumnType("jsonb");
        });

        model.Entity<Integration>().ToTable("integrations");
        model.Entity<Publication>(e =>
        {
            e.ToTable("publications");
            e.HasMany(p => p.Targets).WithOne().HasForeignKey(t => t.PublicationId);
        });
        model.Entity<PublicationTarget>(e =>
        {
            e.ToTable("publication_targets");
            e.Property(t => t.Request).HasColumnType("jsonb");
            e.Property(t => t.Error).HasColumnType("jsonb");
            e.HasOne(t => t.Integration).WithMany().HasForeignKey(t => t.IntegrationId);
        });

        // Foreign keys without navigations: EF needs them to order inserts (a user before their org before its keys).
        model.Entity<Org>().HasOne<User>().WithMany().HasForeignKey(o => o.OwnerId);
        model.Entity<OrgMember>().HasOne<Org>().WithMany().HasForeignKey(m => m.OrgId);
        model.Entity<OrgInvitation>().HasOne<Org>().WithMany().HasForeignKey(i => i.OrgId);
        model.Entity<ApiKey>().HasOne<User>().WithMany().HasForeignKey(k => k.UserId);
        model.Entity<ApiKey>().HasOne<Org>().WithMany().HasForeignKey(k => k.OrgId);
        model.Entity<RefreshToken>().HasOne<User>().WithMany().HasForeignKey(t => t.UserId);
        model.Entity<Template>().HasOne<Org>().WithMany().HasForeignKey(t => t.OrgId);
        model.Entity<Workflow>().HasOne<Org>().WithMany().HasForeignKey(w => w.OrgId);
        model.Entity<WorkflowVersion>().HasOne<Workflow>().WithMany().HasForeignKey(v => v.WorkflowId);
        model.Entity<AuditLog>().HasOne<Org>().WithMany().HasForeignKey(a => a.OrgId);
        model.Entity<AuditLog>().HasOne<User>().WithMany().HasForeignKey(a => a.UserId);
        model.Entity<Webhook>().HasOne<Org>().WithMany().HasForeignKey(w => w.OrgId);
        model.Entity<Schedule>().HasOne<Workflow>().WithMany().HasForeignKey(x => x.WorkflowId);

        foreach (var entity in model.Model.GetEntityTypes())
        foreach (var property in entity.GetProperties())
            property.SetColumnName(JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name));
    }
}
