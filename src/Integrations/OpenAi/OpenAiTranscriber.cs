using System.Net.Http.Headers;
using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;

namespace FentaWeb.Integrations.OpenAi;

/// <summary>
/// OpenAI transcriptions (<c>POST /audio/transcriptions</c>, multipart) with <c>response_format=verbose_json</c> and
/// word timestamps: segments become sentences, words keep their own times.
/// </summary>
public sealed class OpenAiTranscriber(HttpClient http, OpenAiEndpoint options)
{
    public async Task<IReadOnlyList<SpokenSentence>> TranscribeAsync(string mediaPath, string? language, CancellationToken ct)
    {
        using var form = new MultipartFormDataContent();
        var file = new StreamContent(File.OpenRead(mediaPath));
        file.Headers.ContentType = new MediaTypeHeaderValue(mediaPath.EndsWith(".wav", StringComparison.Ordinal) ? "audio/wav" : "video/mp4");
        form.Add(file, "file", Path.GetFileName(mediaPath));
        form.Add(new StringContent(options.Model), "model");
        form.Add(new StringContent("verbose_json"), "response_format");
        form.Add(new StringContent("word"), "timestamp_granularities[]");
        form.Add(new StringContent("segment"), "timestamp_granularities[]");
        if (language is { Length: > 0 }) form.Add(new StringContent(language), "language");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(options.BaseUrl, "audio/transcriptions")) { Content = form };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
        using var response = await OpenAiHttp.SendAsync(http, request, options.Timeout, "ASR", ct);
        return Parse(await response.Content.ReadAsStringAsync(ct));
    }

    public static IReadOnlyList<SpokenSentence> Parse(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            var words = root.TryGetProperty("words", out var w)
                ? w.EnumerateArray().Select(x => new SpokenWord(x.GetProperty("word").GetString()!.Trim(), x.GetProperty("start").GetDouble(), x.GetProperty("end").GetDouble())).ToList()
                : [];
            var segments = root.TryGetProperty("segments", out var s) ? s.EnumerateArray().ToList() : [];
            if (segments.Count == 0 && words.Count > 0)
                return [new SpokenSentence(0, string.Join(" ", words.Select(x => x.Text)), words[0].Start, words[^1].End, words)];
            return segments.Select((segment, i) =>
            {
                var (start, end) = (segment.GetProperty("start").GetDouble(), segment.GetProperty("end").GetDouble());
                var text = segment.GetProperty("text").GetString()!.Trim();
                var inside = words.Where(x => x.Start >= start - 0.01 && x.End <= end + 0.01).ToList();
                return new SpokenSentence(i, text, start, end, inside.Count > 0 ? inside : Sentences.TimeWords(text, start, end));
            }).Where(x => x.Text.Length > 0).ToList();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new ProviderException("ASR_BAD_OUTPUT", $"The transcription is not verbose_json: {e.Message}");
        }
    }
}
