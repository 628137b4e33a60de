"""Reference lists for the synthetic world: names, places, vehicles.

Lists are in rough order of frequency in adult UK populations (ONS birth
registrations across cohorts and surname counts); the generator weights them
by rank (Zipf), which gives real data's long tail without claiming precision.
"""

from __future__ import annotations


def _split(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.replace("\n", ",").split(",") if item.strip())


FAMILY_NAMES = _split("""
Smith, Jones, Williams, Taylor, Brown, Davies, Evans, Wilson, Thomas, Johnson, Roberts, Robinson,
Thompson, Wright, Walker, White, Edwards, Hughes, Green, Hall, Lewis, Harris, Clarke, Patel, Jackson,
Wood, Turner, Martin, Cooper, Hill, Ward, Morris, Moore, Clark, Lee, King, Baker, Harrison, Morgan,
Allen, James, Scott, Phillips, Watson, Davis, Parker, Price, Bennett, Young, Griffiths, Mitchell, Kelly,
Cook, Carter, Richardson, Bailey, Collins, Bell, Shaw, Murphy, Miller, Cox, Richards, Khan, Marshall,
Anderson, Simpson, Ellis, Adams, Singh, Begum, Wilkinson, Foster, Chapman, Powell, Webb, Rogers, Gray,
Mason, Ali, Hunt, Hussain, Campbell, Matthews, Owen, Palmer, Holmes, Mills, Barnes, Knight, Lloyd,
Butler, Russell, Barker, Fisher, Stevens, Jenkins, Murray, Dixon, Harvey, Graham, Pearson, Ahmed,
Fletcher, Walsh, Kaur, Gibson, Howard, Andrews, Stewart, Elliott, Reynolds, Saunders, Payne, Fox, Ford,
Pearce, Day, Brooks, West, Lawrence, Cole, Atkinson, Bradley, Spencer, Gill, Dawson, Ball, Burton,
O'Brien, Watts, Rose, Booth, Perry, Ryan, Grant, Wells, Armstrong, Francis, Rees, Hayes, Hart, Hudson,
Newman, Barrett, Webster, Hunter, Gregory, Carr, Lowe, Page, Marsh, Riley, Dunn, Woods, Parsons, Berry,
Stone, Reid, Holland, Hawkins, Harding, Porter, Robertson, Newton, Oliver, Reed, Kennedy, Williamson,
Bird, Gardner, Shah, Dean, Lane, Cooke, Bates, Henderson, Parry, Burgess, Bishop, Walton, Burns,
Nicholson, Shepherd, Ross, Cross, Long, Freeman, Warren, Nicholls, Hamilton, Byrne, Sutton, McDonald,
Yates, Hodgson, Robson, Curtis, Hopkins, O'Connor, Harper, Coleman, Watkins, Moss, McCarthy, Chambers,
O'Neill, Griffin, Sharp, Hardy, Wheeler, Potter, Osborne, Johnston, Gordon, Doyle, Wallace, George,
Jordan, Hutchinson, Rowe, Burke, May, Pritchard, Gilbert, Willis, Higgins, Miles, Stephenson, Hammond,
Arnold, Buckley, Walters, Hewitt, Barber, Nelson, Slater, Austin, Sullivan, Whitehead, Mann, Frost,
Lambert, Stephens, Blake, Akhtar, Lynch, Goodwin, Barton, Woodward, Cunningham, Quinn, Barnett, Baxter,
Bibi, Clayton, Nash, Greenwood, Jennings, Holt, Kemp, Poole, Gallagher, Bond, Stokes, Tucker, Davidson,
Fowler, Heath, Norman, Middleton, Lawson, Banks, French, Stanley, Jarvis, Gibbs, Ferguson, Hayward,
Carroll, Douglas, Dickinson, Todd, Barlow, Peters, Lucas, Knowles, Hartley, Miah, Simmons, Morton,
Alexander, Field, Morrison, Norris, Townsend, Preston, Hancock, Thornton, Baldwin, Burrows, Briggs,
Rahman, Islam, Uddin, Chowdhury, Malik, Iqbal, Mahmood, Sharma, Kumar, Okafor, Adeyemi, Mensah, Osei,
Okonkwo, Ibrahim, Mohamud, Abdi, Nowak, Kowalski, Popescu, Silva, Santos, Chen, Wang, Nguyen, Kaya
""")

MALE_GIVEN = _split("""
David, John, Michael, James, Paul, Andrew, Mark, Robert, Richard, Daniel, Christopher, Peter, Stephen,
Thomas, William, Matthew, Steven, Anthony, Ian, Jonathan, Simon, Gary, Martin, Lee, Kevin, Adam,
Jason, Darren, Neil, Craig, Alan, Benjamin, Joseph, Samuel, Jack, Oliver, Harry, Ryan, Luke, Liam,
Joshua, Jamie, Nathan, Scott, Dean, Carl, Wayne, Shaun, Philip, Graham, Keith, Colin, Brian, Barry,
Alexander, Edward, George, Charles, Nicholas, Patrick, Sean, Aaron, Callum, Connor, Kieran, Jordan,
Mohammed, Muhammad, Ali, Ahmed, Imran, Hassan, Omar, Usman, Bilal, Raj, Arjun, Oskar, Jakub, Piotr,
Kwame, Chinedu, Tunde, Dylan, Ethan, Noah, Leo, Charlie, Alfie, Freddie, Archie, Theo, Henry, Lewis,
Reece, Bradley, Ashley, Terry, Kenneth, Gerald, Frederick, Lawrence, Terence, Geoffrey, Alistair,
Iain, Rhys, Gareth, Dafydd, Hamish, Fraser, Declan, Ciaran, Kyle, Zachary, Tyler, Mason, Elliot, Toby
""")

FEMALE_GIVEN = _split("""
Sarah, Claire, Emma, Nicola, Lisa, Michelle, Karen, Helen, Rachel, Laura, Louise, Julie, Amanda,
Elizabeth, Catherine, Susan, Joanne, Rebecca, Victoria, Jennifer, Kelly, Donna, Samantha, Hannah,
Jessica, Charlotte, Gemma, Lauren, Amy, Sophie, Katie, Emily, Olivia, Chloe, Lucy, Megan, Jade,
Stacey, Natalie, Hayley, Kirsty, Leanne, Zoe, Margaret, Patricia, Deborah, Tracey, Angela, Alison,
Jacqueline, Ann, Anne, Mary, Christine, Caroline, Fiona, Jane, Ruth, Alexandra, Eleanor, Abigail,
Grace, Ella, Isla, Amelia, Ava, Mia, Poppy, Isabella, Freya, Ruby, Evie, Lily, Holly, Georgia, Ellie,
Fatima, Aisha, Ayesha, Amina, Zara, Priya, Anita, Sunita, Nadia, Yasmin, Maryam, Agnieszka, Anna,
Olga, Ngozi, Chioma, Abena, Siobhan, Niamh, Aoife, Bethan, Sian, Cerys, Rhiannon, Kimberley, Jodie,
Shannon, Danielle, Vicky, Tracy, Lindsay, Kathryn, Katherine, Isobel, Sara, Leah, Paige, Courtney
""")

SPELLING_VARIANTS: tuple[tuple[str, ...], ...] = (
    ("Mohammed", "Muhammad", "Mohamed", "Mohammad", "Muhammed"),
    ("Catherine", "Katherine", "Kathryn", "Catharine"),
    ("Stephen", "Steven"),
    ("Philip", "Phillip"),
    ("Geoffrey", "Jeffrey"),
    ("Sean", "Shaun", "Shawn"),
    ("Lee", "Leigh"),
    ("Aaron", "Arron"),
    ("Sarah", "Sara"),
    ("Ann", "Anne"),
    ("Claire", "Clare"),
    ("Hayley", "Haley", "Hailey"),
    ("Nicola", "Nichola"),
    ("Lindsay", "Lindsey"),
    ("Isobel", "Isabel", "Isabelle"),
    ("Alistair", "Alasdair", "Alastair"),
    ("Matthew", "Mathew"),
    ("Iain", "Ian"),
    ("Kieran", "Ciaran"),
    ("Connor", "Conor"),
    ("Tracey", "Tracy"),
    ("Zoe", "Zoë"),
    ("Ahmed", "Ahmad"),
    ("Hussain", "Hussein", "Husain"),
    ("Chowdhury", "Choudhury", "Chaudhry"),
    ("Smith", "Smyth"),
    ("Thompson", "Thomson"),
    ("Clark", "Clarke"),
    ("Phillips", "Philips"),
    ("McDonald", "MacDonald", "Macdonald"),
    ("O'Brien", "OBrien", "O Brien"),
    ("O'Connor", "OConnor", "O Connor"),
    ("O'Neill", "ONeill", "O'Neil"),
    ("Reid", "Reed", "Read"),
    ("Stephenson", "Stevenson"),
    ("Stevens", "Stephens"),
    ("Davies", "Davis"),
    ("Matthews", "Mathews"),
    ("Gray", "Grey"),
    ("Mohamud", "Mohamoud"),
    ("Rhys", "Reece", "Rees"),
)

NICKNAMES: dict[str, tuple[str, ...]] = {
    "Robert": ("Bob", "Rob", "Bobby", "Robbie"),
    "William": ("Bill", "Will", "Billy"),
    "Elizabeth": ("Liz", "Beth", "Lizzie", "Betty"),
    "Richard": ("Rick", "Richie", "Dick"),
    "James": ("Jim", "Jimmy", "Jamie"),
    "Michael": ("Mike", "Mick", "Micky"),
    "Thomas": ("Tom", "Tommy"),
    "Anthony": ("Tony",),
    "Daniel": ("Dan", "Danny"),
    "David": ("Dave", "Davy"),
    "Christopher": ("Chris",),
    "Matthew": ("Matt",),
    "Andrew": ("Andy", "Drew"),
    "Joseph": ("Joe",),
    "Edward": ("Ed", "Eddie", "Ted"),
    "Alexander": ("Alex", "Sandy"),
    "Benjamin": ("Ben",),
    "Samuel": ("Sam",),
    "Jonathan": ("Jon",),
    "Nicholas": ("Nick",),
    "Stephen": ("Steve",),
    "Steven": ("Steve",),
    "Peter": ("Pete",),
    "Patrick": ("Pat", "Paddy"),
    "Kenneth": ("Ken",),
    "Terence": ("Terry",),
    "Lawrence": ("Larry",),
    "Frederick": ("Fred", "Freddie"),
    "Henry": ("Harry",),
    "Joshua": ("Josh",),
    "Nathan": ("Nate",),
    "Zachary": ("Zac", "Zack"),
    "Gerald": ("Gerry",),
    "Margaret": ("Maggie", "Peggy", "Meg"),
    "Catherine": ("Kate", "Cathy", "Kath"),
    "Katherine": ("Kate", "Kathy", "Katie"),
    "Jennifer": ("Jen", "Jenny"),
    "Rebecca": ("Becky", "Becca"),
    "Victoria": ("Vicky", "Tori"),
    "Samantha": ("Sam", "Sammy"),
    "Alexandra": ("Alex", "Lexi"),
    "Susan": ("Sue", "Susie"),
    "Deborah": ("Debbie", "Deb"),
    "Charlotte": ("Charlie", "Lottie"),
    "Jessica": ("Jess",),
    "Abigail": ("Abby",),
    "Eleanor": ("Ellie", "Nell"),
    "Kimberley": ("Kim",),
    "Christine": ("Chris", "Chrissie"),
    "Jacqueline": ("Jackie",),
    "Patricia": ("Pat", "Trish"),
}

# (town, [(locality, outward code)], latitude, longitude)
TOWNS: tuple[tuple[str, tuple[tuple[str, str], ...], float, float], ...] = (
    (
        "London",
        (
            ("Lewisham", "SE13"),
            ("Brixton", "SW2"),
            ("Islington", "N1"),
            ("Camden", "NW1"),
            ("Hackney", "E8"),
            ("Stratford", "E15"),
            ("Peckham", "SE15"),
            ("Tottenham", "N17"),
            ("Ealing", "W5"),
            ("Westminster", "SW1A"),
            ("Soho", "W1D"),
            ("Covent Garden", "WC2R"),
            ("Clerkenwell", "EC1A"),
            ("Whitechapel", "E1"),
        ),
        51.507,
        -0.128,
    ),
    ("Croydon", (("Croydon", "CR0"),), 51.372, -0.100),
    ("Wembley", (("Wembley", "HA9"),), 51.553, -0.297),
    ("Ilford", (("Ilford", "IG1"),), 51.559, 0.074),
    (
        "Manchester",
        (("City Centre", "M1"), ("Rusholme", "M14"), ("Didsbury", "M20"), ("Cheetham Hill", "M8")),
        53.481,
        -2.243,
    ),
    (
        "Birmingham",
        (("City Centre", "B1"), ("Edgbaston", "B15"), ("Selly Oak", "B29"), ("Small Heath", "B10")),
        52.486,
        -1.890,
    ),
    ("Leeds", (("City Centre", "LS1"), ("Headingley", "LS6"), ("Beeston", "LS11")), 53.800, -1.549),
    ("Liverpool", (("City Centre", "L1"), ("Toxteth", "L8"), ("Wavertree", "L15")), 53.408, -2.991),
    ("Bristol", (("City Centre", "BS1"), ("Easton", "BS5"), ("Clifton", "BS8")), 51.454, -2.588),
    ("Sheffield", (("City Centre", "S1"), ("Broomhill", "S10")), 53.381, -1.470),
    ("Newcastle upon Tyne", (("City Centre", "NE1"), ("Walker", "NE6")), 54.978, -1.618),
    ("Nottingham", (("City Centre", "NG1"), ("Lenton", "NG7")), 52.954, -1.158),
    ("Leicester", (("City Centre", "LE1"), ("Highfields", "LE2")), 52.637, -1.139),
    ("Cardiff", (("City Centre", "CF10"), ("Cathays", "CF24")), 51.481, -3.179),
    ("Glasgow", (("City Centre", "G1"), ("Hillhead", "G12"), ("Dennistoun", "G31")), 55.864, -4.252),
    ("Edinburgh", (("Old Town", "EH1"), ("Leith", "EH6")), 55.953, -3.188),
    ("Southampton", (("City Centre", "SO14"),), 50.909, -1.404),
    ("Brighton", (("City Centre", "BN1"), ("Kemptown", "BN2")), 50.822, -0.137),
    ("Coventry", (("City Centre", "CV1"),), 52.406, -1.512),
    ("Reading", (("Town Centre", "RG1"),), 51.454, -0.978),
)

STREET_STEMS = _split("""
Acacia, Victoria, Church, Station, Park, Mill, Queen's, King's, Manor, Grange, Meadow, Elm, Oak, Beech,
Chestnut, Willow, Albert, York, Windsor, Highfield, Springfield, Orchard, St John's, Green, Clarence,
Nelson, Stanley, Alexandra, Cromwell, Blenheim, Hawthorn, Holly, Ash, Cedar, Rose, Marlborough, Kingsley,
Richmond, Warwick, Cambridge, Oxford, Gladstone, Wellington, Salisbury, Devonshire, Brunswick, Tudor,
Fairfield, Westfield, Broad, Mount, Vicarage, School, Bridge, Castle, Market, Water, New, North, South
""")

STREET_SUFFIXES = _split("""
Road, Road, Road, Street, Street, Avenue, Lane, Close, Crescent, Drive, Gardens, Way, Place, Grove,
Terrace, Court, Mews, Walk, Hill, Rise
""")

PREMISES = _split("""
Strand News, The Red Lion, Tesco Express, Co-op, Greggs, The Crown, Costa Coffee, Ladbrokes, Boots,
Premier Stores, The King's Arms, Sainsbury's Local, Pret A Manger, Londis, Paddy Power, The Railway,
Wetherspoon's, Superdrug, McDonald's, KFC, Poundland, Nisa Local, One Stop, Spar, Iceland
""")

MAKES_MODELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Ford", ("Fiesta", "Focus", "Kuga", "Puma", "Transit")),
    ("Vauxhall", ("Corsa", "Astra", "Mokka", "Insignia")),
    ("Volkswagen", ("Golf", "Polo", "Passat", "Tiguan")),
    ("BMW", ("1 Series", "3 Series", "X1")),
    ("Mercedes-Benz", ("A-Class", "C-Class", "Sprinter")),
    ("Audi", ("A3", "A4", "Q3")),
    ("Toyota", ("Yaris", "Corolla", "Prius", "Aygo")),
    ("Nissan", ("Qashqai", "Juke", "Micra", "Leaf")),
    ("Peugeot", ("208", "308", "2008")),
    ("Kia", ("Sportage", "Picanto", "Niro")),
    ("Hyundai", ("Tucson", "i10", "i30")),
    ("Honda", ("Civic", "Jazz", "CR-V")),
    ("Renault", ("Clio", "Captur")),
    ("Skoda", ("Octavia", "Fabia")),
    ("MINI", ("Hatch", "Countryman")),
    ("Land Rover", ("Range Rover Evoque", "Discovery Sport")),
    ("Tesla", ("Model 3", "Model Y")),
    ("Citroen", ("C3", "C4")),
    ("Fiat", ("500", "Panda")),
    ("Volvo", ("XC40", "XC60")),
)

COLOURS = _split("Black, Silver, Grey, White, Blue, Red, Green, Orange, Yellow, Brown, Bronze, Beige, Purple")

# The DVLA's area letters (the first letter of a current-format registration).
REGISTRATION_AREAS = "ABCDEFGHKLMNOPRSVWY"
REGISTRATION_LETTERS = "ABCDEFGHJKLMNOPRSTUVWXYZ"  # I and Q are never issued in the random letters
POSTCODE_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # C I K M O V are never used in the inward code
