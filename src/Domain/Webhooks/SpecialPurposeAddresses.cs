using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace FentaWeb.Domain.Webhooks;

/// <summary>
/// Which IP addresses a tenant's webhook may never reach: every block of the IANA special-purpose registries (RFC 6890 and
/// its updates: private, loopback, link-local, shared, documentation, benchmarking, reserved, multicast, translation
/// prefixes) and any address bound to an interface of this machine, whatever range it is in. Only what is left is the
/// public internet; a deny list of "private" ranges alone let a name resolving to the host's own 192.0.2.x address through.
/// </summary>
public static class SpecialPurposeAddresses
{
    /// <summary>
    /// FENTA_WEBHOOK_ALLOW_PRIVATE_NETWORKS ("true" or "1"): webhook URLs may name these addresses after all (local
    /// development and tests with a receiver on loopback). Read here only: the API checks URLs with it, the workers deliver by it.
    /// </summary>
    public static bool AllowedFromSettings(Func<string, string?> setting) => setting("FENTA_WEBHOOK_ALLOW_PRIVATE_NETWORKS") is "true" or "1";

    private static readonly (IPAddress Network, int PrefixLength)[] Blocks =
    [
        // IPv4 (iana-ipv4-special-registry, plus multicast and the limited broadcast within 240/4).
        (IPAddress.Parse("0.0.0.0"), 8),          // "this network"
        (IPAddress.Parse("10.0.0.0"), 8),         // private
        (IPAddress.Parse("100.64.0.0"), 10),      // shared address space (carrier-grade NAT)
        (IPAddress.Parse("127.0.0.0"), 8),        // loopback
        (IPAddress.Parse("169.254.0.0"), 16),     // link-local (cloud metadata endpoints live here)
        (IPAddress.Parse("172.16.0.0"), 12),      // private
        (IPAddress.Parse("192.0.0.0"), 24),       // IETF protocol assignments
        (IPAddress.Parse("192.0.2.0"), 24),       // documentation TEST-NET-1
        (IPAddress.Parse("192.31.196.0"), 24),    // AS112
        (IPAddress.Parse("192.52.193.0"), 24),    // AMT
        (IPAddress.Parse("192.88.99.0"), 24),     // deprecated 6to4 relay anycast
        (IPAddress.Parse("192.168.0.0"), 16),     // private
        (IPAddress.Parse("192.175.48.0"), 24),    // direct delegation AS112
        (IPAddress.Parse("198.18.0.0"), 15),      // benchmarking
        (IPAddress.Parse("198.51.100.0"), 24),    // documentation TEST-NET-2
        (IPAddress.Parse("203.0.113.0"), 24),     // documentation TEST-NET-3
        (IPAddress.Parse("224.0.0.0"), 4),        // multicast
        (IPAddress.Parse("240.0.0.0"), 4),        // reserved, and 255.255.255.255 limited broadcast
        // IPv6 (iana-ipv6-special-registry, plus link-local, site-local and multicast).
        (IPAddress.Parse("::"), 128),             // unspecified
        (IPAddress.Parse("::1"), 128),            // loopback
        (IPAddress.Parse("::"), 96),              // deprecated IPv4-compatible addresses
        (IPAddress.Parse("::ffff:0:0:0"), 96),    // IPv4-translated addresses (RFC 2765 SIIT, obsolete): never a public host,
                                                  // and a translator would reach whichever IPv4 address it embeds (::ffff:0:7f00:1)
        (IPAddress.Parse("64:ff9b::"), 96),       // NAT64 well-known prefix: reaches whichever IPv4 address it embeds
        (IPAddress.Parse("64:ff9b:1::"), 48),     // local-use IPv4/IPv6 translation
        (IPAddress.Parse("100::"), 64),           // discard-only
        (IPAddress.Parse("2001::"), 23),          // IETF protocol assignments (Teredo, ORCHID, benchmarking …)
        (IPAddress.Parse("2001:db8::"), 32),      // documentation
        (IPAddress.Parse("2002::"), 16),          // 6to4: reaches whichever IPv4 address it embeds
        (IPAddress.Parse("3fff::"), 20),          // documentation
        (IPAddress.Parse("5f00::"), 16),          // segment routing SIDs
        (IPAddress.Parse("fc00::"), 7),           // unique local
        (IPAddress.Parse("fe80::"), 10),          // link-local
        (IPAddress.Parse("fec0::"), 10),          // deprecated site-local
        (IPAddress.Parse("ff00::"), 8),           // multicast
    ];

    /// <summary>Whether <paramref name="address"/> is in a special-purpose block (an IPv4-mapped IPv6 address is judged by its IPv4 address).</summary>
    public static bool IsSpecialPurpose(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        return Blocks.Any(block => Contains(block.Network, block.PrefixLength, address));
    }

    /// <summary>Whether the address is special-purpose or bound to one of this machine's network interfaces.</summary>
    public static bool IsRefused(IPAddress address) => Refused([address]).Length > 0;

    /// <summary>
    /// Those of <paramref name="addresses"/> that are special-purpose or bound to one of this machine's network interfaces,
    /// read once per call and afresh each time (interfaces come and go).
    /// </summary>
    public static IPAddress[] Refused(IReadOnlyCollection<IPAddress> addresses)
    {
        var local = LocalInterfaceAddresses();
        return [.. addresses.Where(address => IsSpecialPurpose(address) || IsLocalInterface(address, local))];
    }

    /// <summary>Whether the address is one of <paramref name="local"/> (scope ids and the IPv4-mapped form do not matter).</summary>
    public static bool IsLocalInterface(IPAddress address, IEnumerable<IPAddress> local)
    {
        var plain = Plain(address);
        return local.Any(l => Plain(l).Equals(plain));
    }

    /// <summary>The unicast addresses of every network interface of this machine.</summary>
    public static IReadOnlyList<IPAddress> LocalInterfaceAddresses()
    {
        try
        {
            return [.. NetworkInterface.GetAllNetworkInterfaces().SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(u => u.Address)];
        }
        catch (NetworkInformationException)
        {
            return []; // the special-purpose blocks still hold; loopback is among them
        }
    }

    private static IPAddress Plain(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) return address.MapToIPv4();
        return address.AddressFamily == AddressFamily.InterNetworkV6 ? new IPAddress(address.GetAddressBytes()) : address;
    }

    private static bool Contains(IPAddress network, int prefixLength, IPAddress address)
    {
        if (network.AddressFamily != address.AddressFamily) return false;
        var n = network.GetAddressBytes();
        var a = address.GetAddressBytes();
        var whole = prefixLength / 8;
        for (var i = 0; i < whole; i++)
            if (n[i] != a[i]) return false;
        var rest = prefixLength % 8;
        return rest == 0 || (n[whole] ^ a[whole]) >> (8 - rest) == 0;
    }
}
