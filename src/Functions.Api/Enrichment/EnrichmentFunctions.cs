using System.Text.RegularExpressions;
using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Publishing;
using FentaWeb.Integrations.OpenAi;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Npgsql;

namespace FentaWeb.Api.Enrichment;

/// <param name="Platforms">youtube, tiktok, instagram; all three when left out.</param>
/// <param name="Instructions">Extra guidance for the LLM (at most 500 characters); the offline writer does not read it.</param>
/// <param name="Language">A language tag (en, de, pt-BR); by default the script's.</param>
public sealed record GenerateEnrichmentRequest(string? JobId, IReadOnlyList<string?>? Platforms, string? Instructions, string? Language);
public sealed record EnrichmentItemDto(string Platform, string Title, string Description, IReadOnlyList<string> Hashtags);
public sealed record EnrichmentUsageDto(int Used, int? Limit, int? Remaining, DateTimeOffset ResetsAt);
public sealed record EnrichmentDto(string JobId, IReadOnlyList<EnrichmentItemDto> Items, string Model, EnrichmentUsageDto Usage);

/// <summary>AI enrichment (seed 003): a finished video's title, description and hashtags per platform, within a monthly allowance.</summary>
[Tags("Enrichment")]
public sealed partial class EnrichmentFunctions(NpgsqlDataSource db, IMetadataWriter writer, TimeProvider clock)
{
    public const int MaxInstructionChars = 500;

    [Function(nameof(GenerateEnrichment)), Access(OrgRole.Editor, Scopes.JobsExecute),
     EndpointSummary("Write a completed job's title, description and hashtags for youtube, tiktok and instagram (each within the platform's limits), with the LLM when configured, else offline. Counts one of the plan's monthly enrichments; refused with 402 QUOTA_EXCEEDED when they are used up.")]
    public async Task<Ok<EnrichmentDto>> GenerateEnrichment(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/enrichment/generate")] HttpRequest request,
        [FromBody] GenerateEnrichmentRequest body, Caller caller, CancellationToken ct)
    {
        var (jobId, platforms, instructions, language) = Checked(body);
        var source = await Enrichments.SourceAsync(db, caller.OrgId, jobId, ct);
        var asked = new EnrichmentRequest(platforms, language ?? source.Lang ?? "en", instructions);

        var reservation = await Enrichments.ReserveAsync(db, caller.OrgId, caller.UserId, jobId, clock.GetUtcNow(), ct);
        MetadataDraft draft;
        try
        {
            draft = await writer.WriteAsync(source, asked, ct);
        }
        catch
        {
            await Enrichments.ReleaseAsync(db, reservation, CancellationToken.None);
            throw;
        }
        var fallbackTitle = ExtractiveMetadataWriter.TitleOf(source);
        var items = platforms.Select(p => EnrichmentRules.Apply(
            draft.Items.FirstOrDefault(i => i.Platform == p) ?? ExtractiveMetadataWriter.Write(source, p), fallbackTitle)).ToList();
        await Enrichments.CompleteAsync(db, reservation, jobId, draft, items, clock.GetUtcNow(), ct);

        var line = (await Metering.StatusAsync(db, caller.OrgId, clock.GetUtcNow(), ct)).Lines.Single(l => l.Resource == UsageResources.Enrichments);
        return TypedResults.Ok(new EnrichmentDto(jobId, [.. items.Select(i => new EnrichmentItemDto(i.Platform, i.Title, i.Description, i.Hashtags))],
            draft.Model, new EnrichmentUsageDto((int)line.Used, (int?)line.Limit, (int?)line.Remaining, reservation.ResetsAt)));
    }

    private static (string JobId, IReadOnlyList<string> Platforms, string? Instructions, string? Language) Checked(GenerateEnrichmentRequest body)
    {
        var errors = new FieldErrors();
        if (string.IsNullOrWhiteSpace(body.JobId)) errors.Add("job_id", "is required: the id of a completed job");
        var platforms = new List<string>();
        if (body.Platforms is null) platforms.AddRange(Platforms.All);
        else if (body.Platforms.Count == 0) errors.Add("platforms", $"must name at least one of: {string.Join(", ", Platforms.All)} (or be left out for all)");
        else
            for (var i = 0; i < body.Platforms.Count; i++)
            {
                var name = body.Platforms[i]?.Trim().ToLowerInvariant();
                if (name is null || !Platforms.All.Contains(name))
                    errors.Add($"platforms[{i}]", $"must be one of: {string.Join(", ", Platforms.All)}");
                else if (!platforms.Contains(name)) platforms.Add(name);
            }
        var instructions = string.IsNullOrWhiteSpace(body.Instructions) ? null : body.Instructions.Trim();
        if (instructions is { Length: > MaxInstructionChars }) errors.Add("instructions", $"must be at most {MaxInstructionChars} characters");
        var language = string.IsNullOrWhiteSpace(body.Language) ? null : body.Language.Trim();
        if (language is not null && !LanguageTag().IsMatch(language)) errors.Add("language", "must be a language tag such as en, de or pt-BR");
        errors.ThrowIfAny();
        return (body.JobId!.Trim(), platforms, instructions, language);
    }

    [GeneratedRegex(@"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")]
    private static partial Regex LanguageTag();
}

public static class EnrichmentServices
{
    /// <summary>The metadata writer: the chat LLM when FENTA_LLM_BASE_URL is set (<paramref name="llm"/>), else the offline writer.</summary>
    public static IServiceCollection AddMetadataWriter(this IServiceCollection services, OpenAiEndpoint? llm)
    {
        if (llm is null) services.AddSingleton<IMetadataWriter, ExtractiveMetadataWriter>();
        else services.AddOpenAiClient(nameof(ChatMetadataWriter), llm).AddTypedClient<IMetadataWriter>((http, _) => new ChatMetadataWriter(http, llm));
        return services;
    }
}
