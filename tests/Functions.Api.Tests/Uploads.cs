using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FentaWeb.Domain.Media;

namespace FentaWeb.Api.Tests;

/// <summary>Direct uploads as a client makes them: init on the API, one PUT of the file straight to Blob Storage, complete on the API.</summary>
public static class Uploads
{
    /// <summary>Uploads the file and completes it; returns the ready asset.</summary>
    public static async Task<JsonElement> UploadAsync(this HttpClient client, byte[] bytes, string filename, string? contentType = null)
    {
        var ticket = await client.InitUploadAsync(filename, bytes.Length, contentType);
        var put = await PutAsync(ticket, bytes);
        Assert.True(put.StatusCode == HttpStatusCode.Created, $"the upload to Blob Storage answered {(int)put.StatusCode}: {await put.Content.ReadAsStringAsync()}");
        return await (await client.CompleteUploadAsync(Id(ticket))).ReadJsonAsync(200);
    }

    public static async Task<JsonElement> InitUploadAsync(this HttpClient client, string filename, long sizeBytes, string? contentType = null) =>
        await (await client.PostAsJsonAsync("/v1/assets/init", new { filename, content_type = contentType, size_bytes = sizeBytes })).ReadJsonAsync(201);

    public static Task<HttpResponseMessage> CompleteUploadAsync(this HttpClient client, string assetId) =>
        client.PostAsJsonAsync("/v1/assets/complete", new { asset_id = assetId });

    public static string Id(JsonElement ticket) => ticket.GetProperty("asset").GetProperty("id").GetString()!;

    /// <summary>PUTs the bytes to the ticket's upload_url with its upload_headers, with no other credential.</summary>
    public static Task<HttpResponseMessage> PutAsync(JsonElement ticket, byte[] bytes, Uri? instead = null)
    {
        var request = new HttpRequestMessage(new HttpMethod(ticket.GetProperty("upload_method").GetString()!),
            instead ?? new Uri(ticket.GetProperty("upload_url").GetString()!)) { Content = new ByteArrayContent(bytes) };
        foreach (var header in ticket.GetProperty("upload_headers").EnumerateObject()) request.Headers.Add(header.Name, header.Value.GetString());
        return new HttpClient().SendAsync(request);
    }

    /// <summary>A one-second 320x240 H.264 test pattern (or another ffmpeg source), as an uploader would have it.</summary>
    public static async Task<byte[]> ClipAsync(string source = "testsrc=size=320x240:rate=25", double seconds = 1, string extension = ".mp4")
    {
        var path = Path.Combine(Path.GetTempPath(), $"fenta-upload-{Guid.NewGuid():N}{extension}");
        List<string> arguments = ["-y", "-v", "error", "-f", "lavfi", "-i", source];
        arguments.AddRange(extension == ".mp4"
            ? ["-t", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "-pix_fmt", "yuv420p", "-c:v", "libx264"]
            : ["-frames:v", "1"]);
        arguments.Add(path);
        var result = await ProcessRunner.RunAsync("ffmpeg", arguments, CancellationToken.None);
        Assert.True(result.ExitCode == 0, result.StandardError);
        var bytes = await File.ReadAllBytesAsync(path);
        File.Delete(path);
        return bytes;
    }
}
